using FluentAssertions;
using KnowledgeDistillation.Models;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Models;

public class ClipPairEncoderTests
{
    [Fact]
    public void Both_clips_of_every_pair_are_encoded_first_clips_then_second_clips()
    {
        using var scope = NewDisposeScope();
        using var pairs = new ClipPairEncoder(new VideoCnn3d(new[] { 4, 6 }, numClasses: 5));
        pairs.eval();
        var first = randn(new long[] { 3, 2, 1, 16, 16 });
        var second = randn(new long[] { 3, 2, 1, 16, 16 });
        var output = pairs.call(cat(new[] { first, second }, 1));
        output.shape.Should().Equal(6, 5);
        (output.narrow(0, 0, 3) - pairs.Encoder.call(first)).abs().max().item<float>().Should().BeLessThan(1e-5f, "rows 0..B-1 are the first clips");
        (output.narrow(0, 3, 3) - pairs.Encoder.call(second)).abs().max().item<float>().Should().BeLessThan(1e-5f, "rows B..2B-1 are the second clips");
        pairs.parameters().Count().Should().Be(pairs.Encoder.parameters().Count(), "the wrapper adds no weights");
    }

    [Fact]
    public void Bad_clip_batches_fail_in_dotnet()
    {
        using var scope = NewDisposeScope();
        using var pairs = new ClipPairEncoder(new VideoCnn3d(new[] { 4 }, numClasses: 3));
        ((Action)(() => pairs.call(randn(new long[] { 2, 3, 1, 8, 8 })))).Should().Throw<ArgumentException>().WithParameterName("pairs").WithMessage("*2T*odd*");
        ((Action)(() => pairs.call(randn(new long[] { 4, 1, 8, 8 })))).Should().Throw<ArgumentException>().WithParameterName("pairs").WithMessage("*[batch, frames, channels, height, width]*");
        ((Action)(() => new ClipPairEncoder(null!))).Should().Throw<ArgumentNullException>();
    }
}
