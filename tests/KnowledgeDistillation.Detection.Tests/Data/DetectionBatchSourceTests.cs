using FluentAssertions;
using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Data;

public sealed class DetectionBatchSourceTests
{
    [Fact]
    public void Resizes_keeping_the_aspect_ratio_pads_to_the_batch_and_scales_boxes()
    {
        var data = VocReader.Read(SyntheticVoc.Create(3, 96, 64), new VocOptions { Classes = SyntheticVoc.Classes });
        var source = new DetectionBatchSource(data, new DetectionBatchOptions { BatchSize = 3, ImageSize = 48, Shuffle = false });
        var batch = source.GetBatches(0, CPU).Single();
        batch.Inputs.shape.Should().Equal(3, 3, 32, 64);           // 48 wide x 32 high, width padded to a multiple of 32
        Json.Values(batch.Extras[DetectionTargets.ImageSize]).Should().Equal(32, 48, 32, 48, 32, 48);
        Json.Values(batch.Extras[DetectionTargets.Scale]).Should().AllSatisfy(s => s.Should().BeApproximately(0.5, 1e-6));
        batch.Targets!.shape.Should().Equal(3, 3, 6);              // up to 3 objects (1, 2, 3 per image)
        var objects = DetectionTargets.ToObjects(batch.Targets);
        objects.Select(o => o.Count).Should().Equal(1, 2, 3);
        for (var i = 0; i < 3; i++)
        {
            var original = data.Samples[i].Objects;
            objects[i].Select(o => o.Box).Should().Equal(original.Select(o => o.Box.Scale(0.5)));
        }

        // Padding is zero after normalisation, the image region is not.
        batch.Inputs[0, .., .., 48..].abs().max().item<float>().Should().Be(0);
        batch.Inputs[0, .., ..32, ..48].abs().max().item<float>().Should().BeGreaterThan(0);
    }

    [Fact]
    public void Flip_moves_boxes_with_the_pixels_and_augmentation_is_a_function_of_seed_epoch_and_index()
    {
        var data = VocReader.Read(SyntheticVoc.Create(8, 96, 64, seed: 3), new VocOptions { Classes = SyntheticVoc.Classes });
        var options = new DetectionBatchOptions { ImageSize = 96, HorizontalFlip = true, MinScale = 0.5, MaxScale = 1.0, Seed = 4 };
        var source = new DetectionBatchSource(data, options);
        var plain = new DetectionBatchSource(data, new DetectionBatchOptions { ImageSize = 96 });
        var flipped = Enumerable.Range(0, 8).Select(i => source.Prepare(i, 0)).ToArray();
        flipped.Should().Contain(p => p.Flipped).And.Contain(p => !p.Flipped);
        flipped.Select(p => p.Width).Should().OnlyContain(w => w >= 48 && w <= 96);
        foreach (var (p, i) in flipped.Select((p, i) => (p, i)).Where(x => x.p.Flipped))
        {
            var s = p.Scale;
            data.Samples[i].Objects.Select(o => new BoundingBox(p.Width - (o.Box.X2 * p.Width / 96.0), o.Box.Y1 * p.Height / 64.0, p.Width - (o.Box.X1 * p.Width / 96.0), o.Box.Y2 * p.Height / 64.0))
                .Zip(p.Objects.Select(o => o.Box)).Should().OnlyContain(z => Math.Abs(z.First.X1 - z.Second.X1) < 1e-9 && Math.Abs(z.First.X2 - z.Second.X2) < 1e-9);
            // A red/blue box stays under its (flipped) box: the pixel at the box centre is not background grey.
            var o0 = p.Objects[0].Box;
            var (cx, cy) = ((int)((o0.X1 + o0.X2) / 2), (int)((o0.Y1 + o0.Y2) / 2));
            var pixel = p.Rgb.AsSpan(((cy * p.Width) + cx) * 3, 3).ToArray();
            (Math.Abs(pixel[0] - pixel[2]) > 100).Should().BeTrue($"the box centre of flipped image {i} shows the object (got RGB {string.Join(",", pixel)})");
        }

        new DetectionBatchSource(data, options).Prepare(5, 0).Should().BeEquivalentTo(source.Prepare(5, 0), "same seed, epoch and index");
        Enumerable.Range(0, 8).Select(i => source.Prepare(i, 1).Width).Should().NotEqual(flipped.Select(p => p.Width), "another epoch draws again");
        plain.Prepare(0, 0).Flipped.Should().BeFalse();
    }

    [Fact]
    public void Shuffle_order_is_reproducible_per_seed_and_epoch()
    {
        var data = VocReader.Read(SyntheticVoc.Create(10), new VocOptions { Classes = SyntheticVoc.Classes });
        long[] Order(int seed, int epoch) => new DetectionBatchSource(data, new DetectionBatchOptions { BatchSize = 4, ImageSize = 32, Seed = seed })
            .GetBatches(epoch, CPU).SelectMany(b => b.Indices.data<long>().ToArray()).ToArray();
        Order(1, 0).Should().Equal(Order(1, 0)).And.BeEquivalentTo(Enumerable.Range(0, 10));
        Order(1, 1).Should().NotEqual(Order(1, 0));
        new DetectionBatchSource(data, new DetectionBatchOptions { BatchSize = 4 }).BatchCount.Should().Be(3);
    }

    [Fact]
    public void Corrupt_images_fail_naming_the_file_or_are_skipped_up_front()
    {
        var root = SyntheticVoc.Create(3);
        File.WriteAllBytes(Path.Combine(root, "JPEGImages", "img_001.jpg"), new byte[] { 0xFF, 0xD8, 0xFF, 0x00, 0x01 });
        var data = VocReader.Read(root, new VocOptions { Classes = SyntheticVoc.Classes });
        var source = new DetectionBatchSource(data, new DetectionBatchOptions { BatchSize = 3, ImageSize = 32, Shuffle = false });
        var act = () => source.GetBatches(0, CPU).ToList();
        act.Should().Throw<InvalidDataException>().WithMessage("*img_001.jpg*");
        var clean = data.WithoutUnreadableImages();
        clean.Count.Should().Be(2);
        clean.Issues.Should().ContainSingle(i => i.File.EndsWith("img_001.jpg", StringComparison.Ordinal));
        new DetectionBatchSource(clean, new DetectionBatchOptions { BatchSize = 3, ImageSize = 32 }).GetBatches(0, CPU).Should().ContainSingle();
    }

    [Fact]
    public void Bad_options_and_empty_data_are_refused_naming_the_option()
    {
        var data = VocReader.Read(SyntheticVoc.Create(1), new VocOptions { Classes = SyntheticVoc.Classes });
        ((Action)(() => _ = new DetectionBatchSource(data, new DetectionBatchOptions { BatchSize = 0 }))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("BatchSize");
        ((Action)(() => _ = new DetectionBatchSource(data, new DetectionBatchOptions { MinScale = 2, MaxScale = 1 }))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("MinScale");
        ((Action)(() => _ = new DetectionBatchSource(new DetectionDataset(SyntheticVoc.Classes, Array.Empty<DetectionSample>())))).Should().Throw<ArgumentException>().WithParameterName("dataset");
    }
}
