using FluentAssertions;
using KnowledgeDistillation.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data.Pipeline;

public sealed class TransformTests
{
    [Fact]
    public void RandomCrop_equals_torch_pad_then_slice_at_the_drawn_offsets()
    {
        var sample = Image(3, 5, 6, seed: 1);
        for (var trial = 0; trial < 20; trial++)
        {
            var random = SampleRandom.For(7, 0, trial);
            var copy = SampleRandom.For(7, 0, trial);
            var expectedTop = copy.NextInt(5 + 4 - 4 + 1);
            var expectedLeft = copy.NextInt(6 + 4 - 6 + 1);

            var cropped = new RandomCrop(4, 6, padding: 2).Apply(Clone(sample), random);

            using var scope = NewDisposeScope();
            var padded = nn.functional.pad(tensor(sample.Values, [3, 5, 6]), [2, 2, 2, 2]);
            var reference = padded.narrow(1, expectedTop, 4).narrow(2, expectedLeft, 6).contiguous().data<float>().ToArray();
            cropped.Shape.Should().Equal(3, 4, 6);
            cropped.Values.Should().Equal(reference);
        }
    }

    [Fact]
    public void RandomCrop_without_padding_at_full_size_is_the_identity_and_a_too_large_crop_names_the_sizes()
    {
        var sample = Image(2, 4, 4, seed: 2);
        new RandomCrop(4, 4).Apply(Clone(sample), SampleRandom.For(0, 0, 0)).Values.Should().Equal(sample.Values);

        var act = () => new RandomCrop(10, 10, padding: 2).Apply(Clone(sample), SampleRandom.For(0, 0, 0));
        act.Should().Throw<ArgumentException>().WithMessage("*10x10 with padding 2*at least 6x6*[2, 4, 4]*");
        var flat = () => new RandomCrop(2, 2).Apply(new DataSample(new float[4], [4]), SampleRandom.For(0, 0, 0));
        flat.Should().Throw<ArgumentException>().WithMessage("*[C, H, W]*[4]*");
    }

    [Fact]
    public void RandomHorizontalFlip_mirrors_the_last_dimension_when_drawn_and_always_with_probability_one()
    {
        var sample = Image(3, 4, 5, seed: 3);
        var flipped = new RandomHorizontalFlip(1.0).Apply(Clone(sample), SampleRandom.For(0, 0, 0));
        using var scope = NewDisposeScope();
        var reference = tensor(sample.Values, [3, 4, 5]).flip(2).contiguous().data<float>().ToArray();
        flipped.Values.Should().Equal(reference);
        new RandomHorizontalFlip(0.0).Apply(Clone(sample), SampleRandom.For(0, 0, 0)).Values.Should().Equal(sample.Values);

        var flips = Enumerable.Range(0, 2000).Count(i => new SampleRandom((ulong)i).NextDouble() < 0.5);
        flips.Should().BeInRange(900, 1100, "a fair coin");
    }

    [Fact]
    public void Normalize_equals_torch_per_channel_standardisation()
    {
        var sample = Image(3, 4, 4, seed: 4);
        var mean = new[] { 0.4914, 0.4822, 0.4465 };
        var std = new[] { 0.2470, 0.2435, 0.2616 };
        var normalised = new Normalize(mean, std).Apply(Clone(sample), SampleRandom.For(0, 0, 0));
        using var scope = NewDisposeScope();
        var m = tensor(mean.Select(v => (float)v).ToArray(), [3, 1, 1]);
        var s = tensor(std.Select(v => (float)v).ToArray(), [3, 1, 1]);
        var reference = ((tensor(sample.Values, [3, 4, 4]) - m) / s).data<float>().ToArray();
        normalised.Values.Should().Equal(reference);

        var wrong = () => new Normalize([0.5, 0.5], [0.2, 0.2]).Apply(Clone(sample), SampleRandom.For(0, 0, 0));
        wrong.Should().Throw<ArgumentException>().WithMessage("*2 channel statistics*[3, 4, 4]*");
        var zero = () => new Normalize([0.5], [0.0]);
        zero.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("std");
    }

    [Fact]
    public void Random_streams_are_a_pure_function_of_seed_epoch_and_index()
    {
        Draw(SampleRandom.For(1, 2, 3)).Should().Equal(Draw(SampleRandom.For(1, 2, 3)));
        Draw(SampleRandom.For(1, 2, 3)).Should().NotEqual(Draw(SampleRandom.For(1, 3, 3)));
        Draw(SampleRandom.For(1, 2, 3)).Should().NotEqual(Draw(SampleRandom.For(1, 2, 4)));
        Draw(SampleRandom.For(1, 2, 3)).Should().NotEqual(Draw(SampleRandom.For(2, 2, 3)));
        var counts = new int[7];
        var random = SampleRandom.For(0, 0, 0);
        for (var i = 0; i < 7000; i++)
        {
            counts[random.NextInt(7)]++;
        }

        counts.Should().OnlyContain(c => c > 850 && c < 1150);
    }

    [Fact]
    public void Compose_applies_in_order_and_is_random_when_any_part_is()
    {
        var sample = Image(1, 3, 3, seed: 5);
        var composed = new Compose(new RandomHorizontalFlip(1.0), new Normalize([0.5], [2.0]));
        composed.IsRandom.Should().BeTrue();
        new Compose(new Normalize([0.5], [2.0])).IsRandom.Should().BeFalse();
        var result = composed.Apply(Clone(sample), SampleRandom.For(0, 0, 0));
        var manual = new Normalize([0.5], [2.0]).Apply(new RandomHorizontalFlip(1.0).Apply(Clone(sample), SampleRandom.For(0, 0, 0)), SampleRandom.For(0, 0, 0));
        result.Values.Should().Equal(manual.Values);
    }

    internal static DataSample Image(int c, int h, int w, int seed)
    {
        var random = new Random(seed);
        return new DataSample(Enumerable.Range(0, c * h * w).Select(_ => (float)random.NextDouble()).ToArray(), [c, h, w], 1);
    }

    private static DataSample Clone(DataSample s) => new((float[])s.Values.Clone(), (int[])s.Shape.Clone(), s.Label);

    private static ulong[] Draw(SampleRandom random) => Enumerable.Range(0, 4).Select(_ => random.NextUInt64()).ToArray();
}
