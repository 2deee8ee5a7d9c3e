using FluentAssertions;
using KnowledgeDistillation.Models;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Models;

public class VideoModelTests
{
    [Fact]
    public void Both_video_models_map_clips_to_logits_and_an_embedding_for_any_frame_count()
    {
        using var scope = NewDisposeScope();
        using var cnn3d = new VideoCnn3d(new[] { 4, 6, 8 }, numClasses: 5);
        using var frames = new FrameCnn(new[] { 4, 6 }, numClasses: 5, inputChannels: 3);
        foreach (var t in new[] { 1, 3, 8 })
        {
            cnn3d.call(randn(new long[] { 2, t, 1, 32, 32 })).shape.Should().Equal(2, 5);
            cnn3d.Embed(randn(new long[] { 2, t, 1, 32, 32 })).shape.Should().Equal(2, 8);
            frames.call(randn(new long[] { 2, t, 3, 16, 16 })).shape.Should().Equal(2, 5);
            frames.Embed(randn(new long[] { 2, t, 3, 16, 16 })).shape.Should().Equal(2, 6);
        }

        cnn3d.named_modules().Select(m => m.name).Should().Contain(new[] { "embedding", "classifier", "features.stem", "features.block1" });
        VideoCnn3d.Teacher().EmbeddingDimension.Should().Be(128);
        var teacherParameters = VideoCnn3d.Teacher().parameters().Sum(p => p.numel());
        var studentParameters = FrameCnn.Student().parameters().Sum(p => p.numel());
        studentParameters.Should().BeLessThan(teacherParameters / 10, "the student is the light model");
    }

    [Fact]
    public void The_frame_cnn_averages_its_per_frame_embedding_over_time()
    {
        using var scope = NewDisposeScope();
        using var model = new FrameCnn(new[] { 4, 6 });
        model.eval();
        var a = randn(new long[] { 1, 1, 1, 16, 16 });
        var b = randn(new long[] { 1, 1, 1, 16, 16 });
        var pair = model.Embed(cat(new[] { a, b }, 1));
        var mean = (model.Embed(a) + model.Embed(b)) / 2;
        (pair - mean).abs().max().item<float>().Should().BeLessThan(1e-5f);
        var swapped = model.Embed(cat(new[] { b, a }, 1));
        (pair - swapped).abs().max().item<float>().Should().BeLessThan(1e-5f, "temporal average pooling ignores frame order");
    }

    [Fact]
    public void Wrong_clip_shapes_fail_in_dotnet_before_the_convolutions()
    {
        using var scope = NewDisposeScope();
        using var cnn3d = new VideoCnn3d(new[] { 4, 6 });
        using var frames = new FrameCnn(new[] { 4, 6 });
        ((Action)(() => cnn3d.call(randn(2, 1, 32, 32)))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "clips")
            .WithMessage("*[batch, frames, channels, height, width]*got [2, 1, 32, 32]*unsqueeze*");
        ((Action)(() => frames.call(randn(new long[] { 2, 4, 3, 32, 32 })))).Should().Throw<ArgumentException>().WithMessage("*1 channel*");
        ((Action)(() => new VideoCnn3d(Array.Empty<int>()))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "channels");
        ((Action)(() => new FrameCnn(new[] { 4 }, numClasses: 1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "numClasses");
    }
}
