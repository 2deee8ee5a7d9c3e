using FluentAssertions;
using KnowledgeDistillation.Data;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data;

public class ClipTransformTests
{
    private static float[] Frame(DataSample clip, int t)
    {
        var size = clip.Shape[1] * clip.Shape[2] * clip.Shape[3];
        return clip.Values.AsSpan(t * size, size).ToArray();
    }

    [Fact]
    public void Uniform_sampling_spreads_the_frames_and_random_offsets_take_a_window()
    {
        TemporalSampling.Uniform(4).Indices(10).Should().Equal(0, 3, 6, 9);
        TemporalSampling.Uniform(1).Indices(9).Should().Equal(4);
        TemporalSampling.Uniform(4).Indices(2).Should().Equal(0, 0, 1, 1);
        TemporalSampling.Uniform(4).IsRandom.Should().BeFalse();

        var windows = Enumerable.Range(0, 200).Select(i => TemporalSampling.RandomOffset(3, stride: 2).Indices(10, SampleRandom.For(1, 0, i))).ToArray();
        windows.Should().OnlyContain(w => w[1] == w[0] + 2 && w[2] == w[0] + 4 && w[0] >= 0 && w[2] <= 9);
        windows.Select(w => w[0]).Distinct().Should().BeEquivalentTo(new[] { 0, 1, 2, 3, 4, 5 }, "every start 0..T − span is drawn");
        TemporalSampling.RandomOffset(3, 2).Indices(10, SampleRandom.For(1, 0, 5)).Should().Equal(TemporalSampling.RandomOffset(3, 2).Indices(10, SampleRandom.For(1, 0, 5)), "the same stream gives the same window");
        TemporalSampling.RandomOffset(4).Indices(2, SampleRandom.For(1, 0, 0)).Should().Equal(new[] { 0, 1, 1, 1 }, "a short clip repeats its last frame");

        var clip = VideoTestData.Clip(10);
        var sampled = TemporalSampling.Uniform(4).Apply(clip, SampleRandom.For(0, 0, 0));
        sampled.Shape.Should().Equal(4, 1, 6, 6);
        Frame(sampled, 2).Should().Equal(Frame(VideoTestData.Clip(10), 6));
        ((Action)(() => TemporalSampling.Uniform(0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "frames");
        ((Action)(() => TemporalSampling.Uniform(2).Apply(new DataSample(new float[36], [1, 6, 6]), SampleRandom.For(0, 0, 0))))
            .Should().Throw<ArgumentException>().WithMessage("*[frames, channels, height, width]*");
    }

    [Fact]
    public void Per_clip_augmentation_makes_the_same_draws_for_every_frame()
    {
        // Five identical frames stay identical after a random crop + flip; the crop differs between clips.
        var frame = Enumerable.Range(0, 2 * 8 * 8).Select(i => (float)i).ToArray();
        DataSample Clip() => new(Enumerable.Repeat(frame, 5).SelectMany(f => f).ToArray(), [5, 2, 8, 8], 1);
        var transform = new PerClip(new Compose(new RandomCrop(6, 6, padding: 2), new RandomHorizontalFlip()));
        transform.IsRandom.Should().BeTrue();
        var outputs = new List<float[]>();
        for (var i = 0; i < 20; i++)
        {
            var result = transform.Apply(Clip(), SampleRandom.For(3, 0, i));
            result.Shape.Should().Equal(5, 2, 6, 6);
            result.Label.Should().Be(1);
            for (var t = 1; t < 5; t++)
            {
                Frame(result, t).Should().Equal(Frame(result, 0), "frame {0} got the same crop and flip as frame 0", t);
            }

            outputs.Add(Frame(result, 0));
        }

        outputs.Select(o => string.Join(",", o)).Distinct().Count().Should().BeGreaterThan(5, "different clips get different draws");
        transform.Apply(Clip(), SampleRandom.For(3, 0, 7)).Values.Should().Equal(transform.Apply(Clip(), SampleRandom.For(3, 0, 7)).Values, "deterministic per (seed, epoch, index)");
    }

    [Fact]
    public void Clip_batches_are_checked_before_native_code()
    {
        using var scope = NewDisposeScope();
        ((Action)(() => VideoClips.CheckBatch(zeros(2, 1, 8, 8)))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "clips").WithMessage("*[batch, frames, channels, height, width]*got [2, 1, 8, 8]*");
        ((Action)(() => VideoClips.CheckBatch(zeros(new long[] { 2, 3, 1, 8, 8 }), channels: 3))).Should().Throw<ArgumentException>().WithMessage("*3 channel*");
        ((Action)(() => VideoClips.CheckBatch(zeros(new long[] { 2, 3, 1, 8, 8 }, ScalarType.Int64)))).Should().Throw<ArgumentException>().WithMessage("*floating point*");
        VideoClips.CheckBatch(zeros(new long[] { 2, 3, 1, 8, 8 })).shape.Should().Equal(2, 3, 1, 8, 8);

        ((Action)(() => VideoClips.Stack(new[] { zeros(4, 1, 8, 8), zeros(5, 1, 8, 8) }))).Should().Throw<ArgumentException>().WithMessage("*Clip 1 has 5 frames*clip 0 has 4*same frame count*");
        ((Action)(() => VideoClips.Stack(new[] { zeros(4, 1, 8, 8), zeros(4, 1, 8) }))).Should().Throw<ArgumentException>().WithMessage("*Clip 1 must have shape [frames, channels, height, width]*");
        ((Action)(() => VideoClips.Stack(new[] { zeros(4, 1, 8, 8), zeros(4, 1, 8, 9) }))).Should().Throw<ArgumentException>().WithMessage("*one size*");
        VideoClips.Stack(new[] { zeros(4, 1, 8, 8), ones(4, 1, 8, 8) }).shape.Should().Equal(2, 4, 1, 8, 8);

        // A pipeline over clips of different lengths names the sample and the fix; sampling them to one length batches them.
        var uneven = Dataset.FromFunction(4, i => VideoTestData.Clip(3 + (int)i, label: i % 2), classCount: 2);
        var pipeline = new DataPipeline(uneven, new DataPipelineOptions { BatchSize = 4, Shuffle = false });
        ((Action)(() => pipeline.GetBatches(0, CPU).First())).Should().Throw<InvalidDataException>().WithMessage("*same shape*");
        var sampled = new DataPipeline(uneven, new DataPipelineOptions { BatchSize = 4, Shuffle = false, Transforms = { TemporalSampling.Uniform(3) } });
        sampled.GetBatches(0, CPU).First().Inputs.shape.Should().Equal(4, 3, 1, 6, 6);
    }
}
