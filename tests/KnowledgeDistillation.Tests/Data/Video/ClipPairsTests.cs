using FluentAssertions;
using KnowledgeDistillation.Data;
using Xunit;

namespace KnowledgeDistillation.Tests.Data;

public class ClipPairsTests
{
    private static int[] FrameIds(DataSample clip, int frameSize) =>
        Enumerable.Range(0, clip.Shape[0]).Select(t => (int)(clip.Values[t * frameSize] / frameSize)).ToArray();

    [Fact]
    public void Two_windows_of_one_clip_are_concatenated_along_time_with_independent_offsets()
    {
        // A 6-frame clip, views of 3 consecutive frames from a random start (0..3): the pair is [6, 1, 4, 4], each half a run
        // of consecutive source frames, and the two halves' starts vary independently over samples.
        var pairs = new ClipPairs(TemporalSampling.RandomOffset(3));
        var starts = new HashSet<(int, int)>();
        for (var i = 0; i < 200; i++)
        {
            var result = pairs.Apply(VideoTestData.Clip(6, height: 4, width: 4, label: 3), SampleRandom.For(1, 0, i));
            result.Shape.Should().Equal(6, 1, 4, 4);
            result.Label.Should().Be(3, "the label is kept");
            var ids = FrameIds(result, 16);
            ids.Take(3).Should().Equal(Enumerable.Range(ids[0], 3), "the first clip is a window of the video");
            ids.Skip(3).Should().Equal(Enumerable.Range(ids[3], 3), "the second clip is a window of the same video");
            starts.Add((ids[0], ids[3]));
        }

        starts.Should().HaveCount(16, "all 4 x 4 start combinations occur: the two clips are drawn independently");
    }

    [Fact]
    public void The_pair_is_a_pure_function_of_the_sample_stream()
    {
        var pairs = new ClipPairs(new Compose(TemporalSampling.RandomOffset(2), new PerClip(new RandomCrop(4, 4, padding: 1))));
        var a = pairs.Apply(VideoTestData.Clip(5, height: 4, width: 4), SampleRandom.For(7, 2, 11));
        var b = pairs.Apply(VideoTestData.Clip(5, height: 4, width: 4), SampleRandom.For(7, 2, 11));
        a.Values.Should().Equal(b.Values);
        a.Shape.Should().Equal(4, 1, 4, 4);
        pairs.IsRandom.Should().BeTrue();
    }

    [Fact]
    public void Bad_input_fails_in_dotnet()
    {
        ((Action)(() => new ClipPairs(TemporalSampling.Uniform(3)))).Should().Throw<ArgumentException>().WithParameterName("view").WithMessage("*random*");
        ((Action)(() => new ClipPairs(null!))).Should().Throw<ArgumentNullException>();
        var pairs = new ClipPairs(TemporalSampling.RandomOffset(2));
        ((Action)(() => pairs.Apply(new DataSample(new float[16], [1, 4, 4]), SampleRandom.For(0, 0, 0)))).Should().Throw<ArgumentException>().WithMessage("*[frames, channels, height, width]*");
    }
}
