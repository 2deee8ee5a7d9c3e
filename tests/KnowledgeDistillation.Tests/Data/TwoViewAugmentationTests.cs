using FluentAssertions;
using KnowledgeDistillation.Data;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data;

public sealed class TwoViewAugmentationTests
{
    private static DataSample Image(int seed = 1)
    {
        var random = new Random(seed);
        return new DataSample(Enumerable.Range(0, 1 * 12 * 12).Select(_ => (float)random.NextDouble()).ToArray(), [1, 12, 12], label: 3);
    }

    private static ISampleTransform Augmentation() => new Compose(
        new RandomResizedCrop(8, 8, minScale: 0.2),
        new RandomHorizontalFlip(),
        new IntensityJitter(),
        new RandomGaussianBlur());

    [Fact]
    public void Views_are_stacked_differ_and_are_a_pure_function_of_seed_epoch_and_index()
    {
        var transform = new TwoViewTransform(Augmentation());
        var a = transform.Apply(Image(), SampleRandom.For(7, 2, 5));
        a.Shape.Should().Equal(2, 1, 8, 8);
        a.Label.Should().Be(3);
        a.Values.Take(64).Should().NotEqual(a.Values.Skip(64), "the two views are augmented independently");
        transform.Apply(Image(), SampleRandom.For(7, 2, 5)).Values.Should().Equal(a.Values, "same (seed, epoch, index), same views");
        transform.Apply(Image(), SampleRandom.For(7, 3, 5)).Values.Should().NotEqual(a.Values, "another epoch draws anew");
        transform.Apply(Image(), SampleRandom.For(8, 2, 5)).Values.Should().NotEqual(a.Values, "another seed draws anew");
        transform.IsRandom.Should().BeTrue();
    }

    [Fact]
    public void Views_of_different_shapes_are_refused()
    {
        var transform = new TwoViewTransform(new RandomResizedCrop(8, 8), new RandomResizedCrop(6, 6));
        ((Action)(() => transform.Apply(Image(), SampleRandom.For(0, 0, 0)))).Should().Throw<InvalidOperationException>().WithMessage("*[1, 8, 8]*[1, 6, 6]*");
        ((Action)(() => TwoViews.Stack(zeros(4, 1, 8, 8), zeros(4, 1, 6, 6)))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "second").WithMessage("*[4, 1, 8, 8]*[4, 1, 6, 6]*");
        ((Action)(() => TwoViews.Split(zeros(4, 3, 8)))).Should().Throw<ArgumentException>().WithMessage("*[batch, 2, ...]*[4, 3, 8]*");
        using var stacked = TwoViews.Stack(zeros(4, 1, 8, 8), ones(4, 1, 8, 8));
        stacked.shape.Should().Equal(4, 2, 1, 8, 8);
        TwoViews.Split(stacked).Second.sum().item<float>().Should().Be(256);
    }

    [Fact]
    public void Full_scale_crop_is_the_identity_and_disabled_jitter_and_blur_change_nothing()
    {
        var image = Image();
        var crop = new RandomResizedCrop(12, 12, minScale: 1, maxScale: 1, minRatio: 1, maxRatio: 1);
        crop.Apply(new DataSample((float[])image.Values.Clone(), [1, 12, 12]), SampleRandom.For(0, 0, 0)).Values.Should().Equal(image.Values);
        new IntensityJitter(probability: 0).Apply(new DataSample((float[])image.Values.Clone(), [1, 12, 12]), SampleRandom.For(0, 0, 0)).Values.Should().Equal(image.Values);
        new RandomGaussianBlur(probability: 0).Apply(new DataSample((float[])image.Values.Clone(), [1, 12, 12]), SampleRandom.For(0, 0, 0)).Values.Should().Equal(image.Values);
        var constant = new DataSample(Enumerable.Repeat(0.25f, 144).ToArray(), [1, 12, 12]);
        new RandomGaussianBlur(radius: 2, probability: 1).Apply(constant, SampleRandom.For(0, 0, 0)).Values.Should().OnlyContain(v => Math.Abs(v - 0.25f) < 1e-6, "a normalised blur keeps a constant image");
        var jittered = new IntensityJitter(0.5, 0.5, probability: 1).Apply(new DataSample((float[])image.Values.Clone(), [1, 12, 12]), SampleRandom.For(0, 0, 1));
        jittered.Values.Should().OnlyContain(v => v >= 0 && v <= 1).And.NotEqual(image.Values);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        ((Action)(() => new RandomResizedCrop(0, 8))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "height");
        ((Action)(() => new RandomResizedCrop(8, 8, minScale: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "minScale");
        ((Action)(() => new RandomResizedCrop(8, 8, minScale: 0.5, maxScale: 0.4))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "maxScale");
        ((Action)(() => new IntensityJitter(brightness: 2))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "brightness");
        ((Action)(() => new RandomGaussianBlur(radius: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "radius");
        ((Action)(() => new RandomResizedCrop(8, 8).Apply(new DataSample(new float[8], [8]), SampleRandom.For(0, 0, 0)))).Should().Throw<ArgumentException>().WithMessage("*[C, H, W]*");
    }
}
