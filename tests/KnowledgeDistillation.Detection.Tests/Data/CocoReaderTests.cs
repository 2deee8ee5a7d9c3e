using FluentAssertions;
using KnowledgeDistillation.Detection.Data;
using Xunit;

namespace KnowledgeDistillation.Detection.Tests.Data;

public sealed class CocoReaderTests
{
    private static string Write(string json)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kd-coco-").FullName, "instances.json");
        File.WriteAllText(path, json);
        return path;
    }

    private const string Valid = """
        {"images": [{"id": 7, "file_name": "a.jpg", "width": 100, "height": 50}, {"id": 3, "file_name": "b.jpg", "width": 40, "height": 40}],
         "categories": [{"id": 18, "name": "dog"}, {"id": 1, "name": "person"}],
         "annotations": [{"image_id": 7, "category_id": 18, "bbox": [10, 5, 20, 10]},
                         {"image_id": 7, "category_id": 1, "bbox": [90, 40, 30, 30], "iscrowd": 1},
                         {"image_id": 3, "category_id": 1, "bbox": [0, 0, 0, 5]}]}
        """;

    [Fact]
    public void Reads_images_boxes_categories_in_id_order_and_crowd_flags()
    {
        var data = CocoReader.Read(Write(Valid), "/images");
        data.Classes.Should().Equal("person", "dog");
        data.Samples.Select(s => Path.GetFileName(s.ImagePath)).Should().Equal("a.jpg", "b.jpg");
        data.Samples[0].Objects.Should().Equal(new DetectionObject(1, new BoundingBox(10, 5, 30, 15)), new DetectionObject(0, new BoundingBox(90, 40, 100, 50), true));
        data.Samples[1].Objects.Should().BeEmpty("the zero-width box is dropped");
        data.Issues.Should().HaveCount(2, "one box clipped, one dropped");
        CocoReader.Read(Write(Valid), "/images", new CocoOptions { KeepCrowd = false, KeepEmptyImages = false }).Samples.Should().ContainSingle().Which.Objects.Should().ContainSingle();
    }

    [Theory]
    [InlineData("", "not valid JSON")]
    [InlineData("[1, 2]", "top level")]
    [InlineData("""{"images": [], "categories": [{"id": 1, "name": "x"}]}""", "annotations")]
    [InlineData("""{"images": [], "categories": [], "annotations": []}""", "categories")]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg", "width": 0, "height": 5}], "categories": [{"id": 1, "name": "x"}], "annotations": []}""", "width/height")]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg", "width": 5, "height": 5}], "categories": [{"id": 1, "name": "x"}], "annotations": [{"image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}]}""", "image_id")]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg", "width": 5, "height": 5}], "categories": [{"id": 1, "name": "x"}], "annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1]}]}""", "bbox")]
    [InlineData("""{"images": [{"id": 1, "file_name": "a.jpg", "width": 5, "height": 5}], "categories": [{"id": 1, "name": "x"}], "annotations": [{"image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1]}]}""", "category_id")]
    public void Malformed_files_and_unknown_categories_fail_naming_the_file_and_field(string json, string field)
    {
        var path = Write(json);
        var act = () => CocoReader.Read(path, "/images");
        act.Should().Throw<InvalidDataException>().Where(e => e.Message.Contains(path, StringComparison.Ordinal) && e.Message.Contains(field, StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_categories_can_be_skipped_and_recorded()
    {
        var path = Write("""{"images": [{"id": 1, "file_name": "a.jpg", "width": 5, "height": 5}], "categories": [{"id": 1, "name": "x"}], "annotations": [{"image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1]}]}""");
        var data = CocoReader.Read(path, "/images", new CocoOptions { UnknownClasses = AnnotationPolicy.Skip });
        data.Samples.Single().Objects.Should().BeEmpty();
        data.Issues.Should().ContainSingle(i => i.Message.Contains("9", StringComparison.Ordinal));
    }

    [Fact]
    public void Fuzz_finding_invalid_utf8_inside_a_string_is_invalid_data()
    {
        var path = Write("""{"images": [{"id": 1, "file_name": "a.jpg", "width": 5, "height": 5}], "categories": [{"id": 1, "name": "NAME"}], "annotations": []}""");
        var bytes = File.ReadAllBytes(path);
        var at = System.Text.Encoding.ASCII.GetString(bytes).IndexOf("NAME", StringComparison.Ordinal);
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;   // an invalid two-byte UTF-8 sequence
        File.WriteAllBytes(path, bytes);
        ((Action)(() => CocoReader.Read(path, "/images"))).Should().Throw<InvalidDataException>().WithMessage("*categories[].name*UTF-8*");
    }
}
