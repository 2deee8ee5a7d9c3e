using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace KnowledgeDistillation.Detection.Data;

/// <summary>
/// Reads a Pascal VOC folder (<c>Annotations/*.xml</c>, <c>JPEGImages/</c>, <c>ImageSets/Main/*.txt</c>). Boxes are the
/// XML's <c>bndbox</c> (xmin, ymin, xmax, ymax, as written: VOC's 1-based pixel indices are kept as continuous
/// coordinates); a box reaching outside the image is clipped to it and recorded, a box with no area left is dropped and
/// recorded; an image without objects is kept (background). Unknown class names and malformed files follow
/// <see cref="VocOptions"/>: by default an <see cref="InvalidDataException"/> naming the file and what was expected.
/// </summary>
public static class VocReader
{
    /// <summary>Reads the folder.</summary>
    /// <param name="root">The VOC folder (holding <c>Annotations</c> and <c>JPEGImages</c>).</param>
    /// <param name="options">Options; <c>null</c> for the defaults.</param>
    /// <exception cref="DirectoryNotFoundException">The folder or its <c>Annotations</c> folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The image set file, or an image the annotations name, does not exist.</exception>
    /// <exception cref="InvalidDataException">A malformed file or unknown class under the <see cref="AnnotationPolicy.Error"/> policy; the message names the file.</exception>
    public static DetectionDataset Read(string root, VocOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        options ??= new VocOptions();
        var annotations = Path.Combine(root, "Annotations");
        if (!Directory.Exists(annotations))
        {
            throw new DirectoryNotFoundException($"'{root}' is not a Pascal VOC folder: it has no 'Annotations' folder.");
        }

        var ids = ImageIds(root, annotations, options.ImageSet);
        var issues = new List<AnnotationIssue>();
        var parsed = new List<(string File, string Image, int Width, int Height, List<(string Name, BoundingBox Box, bool Difficult)> Objects)>();
        foreach (var id in ids)
        {
            var file = Path.Combine(annotations, id + ".xml");
            try
            {
                parsed.Add(Parse(root, file));
            }
            catch (InvalidDataException e) when (options.MalformedFiles == AnnotationPolicy.Skip)
            {
                issues.Add(new AnnotationIssue(file, "skipped: " + e.Message));
            }
        }

        var classes = options.Classes ?? parsed.SelectMany(p => p.Objects.Select(o => o.Name)).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (classes.Count == 0)
        {
            throw new InvalidDataException($"'{root}': the annotation files name no object classes to discover; pass VocOptions.Classes.");
        }

        var index = classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var samples = new List<DetectionSample>(parsed.Count);
        foreach (var (file, image, width, height, objects) in parsed)
        {
            var kept = new List<DetectionObject>(objects.Count);
            foreach (var (name, raw, difficult) in objects)
            {
                if (!index.TryGetValue(name, out var cls))
                {
                    if (options.UnknownClasses == AnnotationPolicy.Error)
                    {
                        throw new InvalidDataException($"'{file}': object class '{name}' is not one of the classes [{string.Join(", ", classes)}] (VocOptions.Classes); set VocOptions.UnknownClasses = Skip to skip such objects.");
                    }

                    issues.Add(new AnnotationIssue(file, $"skipped an object of unknown class '{name}'"));
                    continue;
                }

                if (difficult && !options.KeepDifficult)
                {
                    continue;
                }

                if (AnnotationBoxes.Fit(file, raw, width, height, issues) is { } box)
                {
                    kept.Add(new DetectionObject(cls, box, difficult));
                }
            }

            samples.Add(new DetectionSample(image, width, height, kept));
        }

        return new DetectionDataset(classes, samples, issues);
    }

    private static IEnumerable<string> ImageIds(string root, string annotations, string? imageSet)
    {
        if (imageSet is null)
        {
            return Directory.EnumerateFiles(annotations, "*.xml").Select(f => Path.GetFileNameWithoutExtension(f)!).Order(StringComparer.Ordinal).ToArray();
        }

        var list = Path.Combine(root, "ImageSets", "Main", imageSet + ".txt");
        if (!File.Exists(list))
        {
            throw new FileNotFoundException($"The image set '{imageSet}' (VocOptions.ImageSet) has no list file '{list}'.", list);
        }

        return File.ReadLines(list).Select(l => l.Trim()).Where(l => l.Length > 0).Select(l => l.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0]).ToArray();
    }

    private static (string File, string Image, int Width, int Height, List<(string Name, BoundingBox Box, bool Difficult)> Objects) Parse(string root, string file)
    {
        if (!File.Exists(file))
        {
            throw new InvalidDataException($"'{file}': the annotation file listed in the image set does not exist.");
        }

        XDocument doc;
        try
        {
            // No DTDs: an annotation file has no use for entities (and a crafted one could expand without bound).
            using var reader = XmlReader.Create(file, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            doc = XDocument.Load(reader, LoadOptions.None);
        }
        catch (XmlException e)
        {
            throw new InvalidDataException($"'{file}' is not well-formed XML (line {e.LineNumber}, position {e.LinePosition}): {e.Message}", e);
        }

        var annotation = doc.Root is { Name.LocalName: "annotation" } r ? r : throw new InvalidDataException($"'{file}': the root element must be <annotation>.");
        var fileName = Text(file, annotation, "filename");
        var image = Path.Combine(root, "JPEGImages", fileName);
        if (!File.Exists(image))
        {
            throw new InvalidDataException($"'{file}': the image '{image}' it names (<filename>) does not exist.");
        }

        var size = annotation.Element("size") ?? throw new InvalidDataException($"'{file}': <size> is missing.");
        var width = (int)Number(file, size, "width");
        var height = (int)Number(file, size, "height");
        if (width < 1 || height < 1)
        {
            throw new InvalidDataException($"'{file}': <size> is {width}x{height}; expected a positive width and height.");
        }

        var objects = new List<(string, BoundingBox, bool)>();
        foreach (var o in annotation.Elements("object"))
        {
            var name = Text(file, o, "name").Trim();
            var difficult = o.Element("difficult") is { } d && d.Value.Trim() == "1";
            var box = o.Element("bndbox") ?? throw new InvalidDataException($"'{file}': an <object> ('{name}') has no <bndbox>.");
            objects.Add((name, new BoundingBox(Number(file, box, "xmin"), Number(file, box, "ymin"), Number(file, box, "xmax"), Number(file, box, "ymax")), difficult));
        }

        return (file, image, width, height, objects);
    }

    private static string Text(string file, XElement parent, string name) =>
        parent.Element(name)?.Value is { Length: > 0 } text ? text : throw new InvalidDataException($"'{file}': <{parent.Name.LocalName}> lacks a non-empty <{name}>.");

    private static double Number(string file, XElement parent, string name)
    {
        var text = Text(file, parent, name).Trim();
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new InvalidDataException($"'{file}': <{parent.Name.LocalName}><{name}> is '{text}'; expected a finite number.");
    }
}
