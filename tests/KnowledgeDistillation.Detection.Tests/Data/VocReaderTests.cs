using FluentAssertions;
using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Tests.Support;
using Xunit;

namespace KnowledgeDistillation.Detection.Tests.Data;

public sealed class VocReaderTests
{
    private static readonly string Bccd = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared/data/detection/bccd/BCCD"));

    [Fact]
    public void Reads_bccd_image_sets_with_its_three_classes()
    {
        if (!Directory.Exists(Bccd))
        {
            return; // ../shared is beside the repository in CI and here; a bare clone has no BCCD.
        }

        var train = VocReader.Read(Bccd, new VocOptions { ImageSet = "train", Classes = new[] { "Platelets", "RBC", "WBC" } });
        var test = VocReader.Read(Bccd, new VocOptions { ImageSet = "test", Classes = train.Classes });
        train.Count.Should().Be(205);
        test.Count.Should().Be(72);
        train.Samples.Should().OnlyContain(s => s.Width == 640 && s.Height == 480 && File.Exists(s.ImagePath));
        train.ClassCounts().Should().OnlyContain(c => c > 0);
        train.Samples.SelectMany(s => s.Objects).Should().OnlyContain(o => o.Box.IsValid && o.Box.X2 <= 640 && o.Box.Y2 <= 480);
    }

    [Fact]
    public void Reads_boxes_difficult_flags_and_discovers_sorted_classes()
    {
        var root = SyntheticVoc.Create(1);
        SyntheticVoc.WriteXml(Path.Combine(root, "Annotations", "img_000.xml"), "img_000.jpg", 96, 64, new (string, double, double, double, double, bool)[] { ("zeta", 1, 2, 30, 40, false), ("alpha", 10.5, 5, 20, 25, true) });
        var data = VocReader.Read(root);
        data.Classes.Should().Equal("alpha", "zeta");
        var objects = data.Samples.Single().Objects;
        objects.Should().HaveCount(2);
        objects[0].Should().Be(new DetectionObject(1, new BoundingBox(1, 2, 30, 40), false));
        objects[1].Should().Be(new DetectionObject(0, new BoundingBox(10.5, 5, 20, 25), true));
        VocReader.Read(root, new VocOptions { KeepDifficult = false }).Samples.Single().Objects.Should().ContainSingle();
    }

    [Fact]
    public void Boxes_outside_the_image_are_clipped_and_boxes_without_area_dropped_with_a_record()
    {
        var root = SyntheticVoc.Create(1);
        SyntheticVoc.WriteXml(Path.Combine(root, "Annotations", "img_000.xml"), "img_000.jpg", 96, 64, new (string, double, double, double, double, bool)[] { ("a", -5, 10, 50, 80, false), ("a", 100, 10, 120, 20, false), ("a", 5, 5, 5, 20, false) });
        var data = VocReader.Read(root, new VocOptions { Classes = SyntheticVoc.Classes });
        data.Samples.Single().Objects.Select(o => o.Box).Should().Equal(new BoundingBox(0, 10, 50, 64));
        data.Issues.Should().HaveCount(3);
        data.Issues.Should().Contain(i => i.Message.Contains("clipped", StringComparison.Ordinal));
        data.Issues.Count(i => i.Message.Contains("dropped", StringComparison.Ordinal)).Should().Be(2);
    }

    [Fact]
    public void Unknown_class_names_fail_naming_the_file_and_class_or_are_skipped_when_asked()
    {
        var root = SyntheticVoc.Create(1);
        SyntheticVoc.WriteXml(Path.Combine(root, "Annotations", "img_000.xml"), "img_000.jpg", 96, 64, new (string, double, double, double, double, bool)[] { ("a", 1, 1, 20, 20, false), ("dog", 1, 1, 20, 20, false) });
        var act = () => VocReader.Read(root, new VocOptions { Classes = SyntheticVoc.Classes });
        act.Should().Throw<InvalidDataException>().WithMessage("*img_000.xml*'dog'*UnknownClasses*");
        var skipped = VocReader.Read(root, new VocOptions { Classes = SyntheticVoc.Classes, UnknownClasses = AnnotationPolicy.Skip });
        skipped.Samples.Single().Objects.Should().ContainSingle();
        skipped.Issues.Should().ContainSingle(i => i.Message.Contains("dog", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", "not well-formed")]
    [InlineData("<annotation><filename>img_000.jpg</filename><size><width>96</width>", "not well-formed")]
    [InlineData("<annotation><filename>img_000.jpg</filename></annotation>", "<size>")]
    [InlineData("<annotation><filename>img_000.jpg</filename><size><width>96</width><height>x</height></size></annotation>", "<height>")]
    [InlineData("<annotation><filename>img_000.jpg</filename><size><width>96</width><height>64</height></size><object><name>a</name></object></annotation>", "<bndbox>")]
    [InlineData("<annotation><filename>missing.jpg</filename><size><width>96</width><height>64</height></size></annotation>", "does not exist")]
    [InlineData("<!DOCTYPE a [<!ENTITY x \"y\">]><annotation/>", "not well-formed")]
    public void Malformed_or_empty_annotation_files_fail_loudly_naming_the_file_or_are_skipped_and_recorded(string xml, string expected)
    {
        var root = SyntheticVoc.Create(2);
        File.WriteAllText(Path.Combine(root, "Annotations", "img_000.xml"), xml);
        var act = () => VocReader.Read(root, new VocOptions { Classes = SyntheticVoc.Classes });
        act.Should().Throw<InvalidDataException>().Where(e => e.Message.Contains("img_000.xml", StringComparison.Ordinal) && e.Message.Contains(expected, StringComparison.Ordinal));
        var skipped = VocReader.Read(root, new VocOptions { Classes = SyntheticVoc.Classes, MalformedFiles = AnnotationPolicy.Skip });
        skipped.Count.Should().Be(1, "the malformed file is skipped, never silently: it is recorded");
        skipped.Issues.Should().ContainSingle(i => i.File.EndsWith("img_000.xml", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_folder_or_image_set_is_a_clear_error()
    {
        var root = SyntheticVoc.Create(1);
        ((Action)(() => VocReader.Read(Path.Combine(root, "nope")))).Should().Throw<DirectoryNotFoundException>().WithMessage("*Annotations*");
        ((Action)(() => VocReader.Read(root, new VocOptions { ImageSet = "val" }))).Should().Throw<FileNotFoundException>().WithMessage("*'val'*ImageSet*");
        VocReader.Read(root, new VocOptions { ImageSet = null }).Count.Should().Be(1, "without an image set every annotation file is read");
    }

    [Fact]
    public void Fuzz_finding_a_folder_without_any_object_and_no_class_list_is_invalid_data()
    {
        var root = SyntheticVoc.Create(1);
        SyntheticVoc.WriteXml(Path.Combine(root, "Annotations", "img_000.xml"), "img_000.jpg", 96, 64, Array.Empty<(string, double, double, double, double, bool)>());
        ((Action)(() => VocReader.Read(root))).Should().Throw<InvalidDataException>().WithMessage("*VocOptions.Classes*");
        VocReader.Read(root, new VocOptions { Classes = SyntheticVoc.Classes }).Samples.Single().Objects.Should().BeEmpty("with classes given, an image without objects is a background image");
    }
}
