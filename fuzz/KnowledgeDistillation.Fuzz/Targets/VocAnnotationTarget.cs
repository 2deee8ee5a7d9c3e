using System.Text;
using KnowledgeDistillation.Detection.Data;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="VocReader.Read"/> on one annotation file in a VOC folder (with the image it names present), classes
/// discovered and given, then every box consumed. Seeds are annotation files written from the format's definition.
/// </summary>
internal sealed class VocAnnotationTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "voc";

    /// <inheritdoc />
    public override string Api => "VocReader.Read(root) (classes discovered, then given with unknown names skipped)";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("voc-two-objects.xml", Xml("<object><name>cat</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object><object><name>dog</name><difficult>1</difficult><bndbox><xmin>5.5</xmin><ymin>6</ymin><xmax>70</xmax><ymax>45</ymax></bndbox></object>")),
        ("voc-outside.xml", Xml("<object><name>cat</name><bndbox><xmin>-4</xmin><ymin>2</ymin><xmax>90</xmax><ymax>40</ymax></bndbox></object>")),
        ("voc-one-object.xml", Xml("<object><name>cat</name><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>80</xmax><ymax>50</ymax></bndbox></object>")),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var root = Path.Combine(scratch, "voc");
        Directory.CreateDirectory(Path.Combine(root, "Annotations"));
        Directory.CreateDirectory(Path.Combine(root, "JPEGImages"));
        File.WriteAllBytes(Path.Combine(root, "JPEGImages", "a.jpg"), new byte[] { 0xFF, 0xD8 });
        File.WriteAllBytes(Path.Combine(root, "Annotations", "a.xml"), input);
        foreach (var options in new[] { new VocOptions { ImageSet = null }, new VocOptions { ImageSet = null, Classes = new[] { "cat" }, UnknownClasses = AnnotationPolicy.Skip } })
        {
            var data = VocReader.Read(root, options);
            GC.KeepAlive(data.Samples.SelectMany(s => s.Objects).Sum(o => o.Box.Area) + data.Issues.Count + data.ClassCounts().Sum());
        }
    }

    private static byte[] Xml(string objects) =>
        Encoding.UTF8.GetBytes($"<annotation><folder>JPEGImages</folder><filename>a.jpg</filename><size><width>80</width><height>50</height><depth>3</depth></size>{objects}</annotation>");
}
