using System.Globalization;
using SkiaSharp;

namespace KnowledgeDistillation.Detection.Tests.Support;

/// <summary>Writes small VOC folders: coloured rectangles on a grey background, one XML per image.</summary>
internal static class SyntheticVoc
{
    public static readonly string[] Classes = { "a", "b" };

    /// <summary>A folder of <paramref name="count"/> images (width x height), each with 1-3 boxes of classes a (red) / b (blue).</summary>
    public static string Create(int count, int width = 96, int height = 64, int seed = 0)
    {
        var root = Directory.CreateTempSubdirectory("kd-voc-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "Annotations"));
        Directory.CreateDirectory(Path.Combine(root, "JPEGImages"));
        Directory.CreateDirectory(Path.Combine(root, "ImageSets", "Main"));
        var random = new Random(seed);
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var id = $"img_{i:D3}";
            ids.Add(id);
            var boxes = new List<(string, int, int, int, int)>();
            for (var k = 0; k < 1 + (i % 3); k++)
            {
                var w = random.Next(12, 40);
                var h = random.Next(12, 30);
                var x = random.Next(0, width - w);
                var y = random.Next(0, height - h);
                boxes.Add((Classes[random.Next(2)], x, y, x + w, y + h));
            }

            WriteImage(Path.Combine(root, "JPEGImages", id + ".jpg"), width, height, boxes);
            WriteXml(Path.Combine(root, "Annotations", id + ".xml"), id + ".jpg", width, height, boxes.Select(b => (b.Item1, (double)b.Item2, (double)b.Item3, (double)b.Item4, (double)b.Item5, false)));
        }

        File.WriteAllLines(Path.Combine(root, "ImageSets", "Main", "trainval.txt"), ids);
        return root;
    }

    public static void WriteImage(string path, int width, int height, IEnumerable<(string Class, int X1, int Y1, int X2, int Y2)> boxes)
    {
        using var bitmap = new SKBitmap(width, height);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(128, 128, 128));
            foreach (var (c, x1, y1, x2, y2) in boxes)
            {
                using var paint = new SKPaint { Color = c == "a" ? new SKColor(230, 20, 20) : new SKColor(20, 20, 230) };
                canvas.DrawRect(x1, y1, x2 - x1, y2 - y1, paint);
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        File.WriteAllBytes(path, data.ToArray());
    }

    public static void WriteXml(string path, string file, int width, int height, IEnumerable<(string Class, double X1, double Y1, double X2, double Y2, bool Difficult)> objects)
    {
        var body = string.Concat(objects.Select(o => string.Create(CultureInfo.InvariantCulture,
            $"<object><name>{o.Class}</name><difficult>{(o.Difficult ? 1 : 0)}</difficult><bndbox><xmin>{o.X1}</xmin><ymin>{o.Y1}</ymin><xmax>{o.X2}</xmax><ymax>{o.Y2}</ymax></bndbox></object>")));
        File.WriteAllText(path, $"<annotation><filename>{file}</filename><size><width>{width}</width><height>{height}</height><depth>3</depth></size>{body}</annotation>");
    }
}
