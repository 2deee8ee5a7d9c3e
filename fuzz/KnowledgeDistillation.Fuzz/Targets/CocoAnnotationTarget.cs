using System.Text;
using KnowledgeDistillation.Detection.Data;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary><see cref="CocoReader.Read"/> on one JSON annotation file, unknown categories an error and skipped; every box consumed. Seeds are written from the format's definition.</summary>
internal sealed class CocoAnnotationTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "coco";

    /// <inheritdoc />
    public override string Api => "CocoReader.Read(json, images) (unknown categories: error, then skipped)";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("coco-two-images.json", Encoding.UTF8.GetBytes("""{"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50}, {"id": 2, "file_name": "b.jpg", "width": 40, "height": 40}], "categories": [{"id": 3, "name": "cat"}, {"id": 1, "name": "dog"}], "annotations": [{"image_id": 1, "category_id": 3, "bbox": [10, 5, 20, 10.5]}, {"image_id": 2, "category_id": 1, "bbox": [30, 30, 20, 20], "iscrowd": 1}]}""")),
        ("coco-no-images.json", Encoding.UTF8.GetBytes("""{"images": [], "categories": [{"id": 1, "name": "x"}], "annotations": []}""")),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "instances.json");
        File.WriteAllBytes(file, input);
        foreach (var options in new[] { new CocoOptions(), new CocoOptions { UnknownClasses = AnnotationPolicy.Skip, KeepEmptyImages = false } })
        {
            var data = CocoReader.Read(file, scratch, options);
            GC.KeepAlive(data.Samples.SelectMany(s => s.Objects).Sum(o => o.Box.Area) + data.Issues.Count + data.ClassCounts().Sum());
        }
    }
}
