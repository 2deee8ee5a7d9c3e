using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Models;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data;

public class VideoPretextTests
{
    private static int[] FrameIds(DataSample clip)
    {
        // VideoTestData.Clip stores value = flat index, so frame t's first value / frame size is its source frame.
        var size = clip.Shape[1] * clip.Shape[2] * clip.Shape[3];
        return Enumerable.Range(0, clip.Shape[0]).Select(t => (int)(clip.Values[t * size] / size)).ToArray();
    }

    [Fact]
    public void Frame_order_labels_ordered_clips_1_and_shuffled_clips_0()
    {
        var task = new VideoPretext(VideoPretextTask.FrameOrder);
        task.ClassCount.Should().Be(2);
        var labels = new List<long>();
        for (var i = 0; i < 100; i++)
        {
            var result = task.Apply(VideoTestData.Clip(6, label: 7), SampleRandom.For(1, 0, i));
            var ids = FrameIds(result);
            ids.Should().BeEquivalentTo(Enumerable.Range(0, 6), "a permutation of the frames");
            (result.Label == 1).Should().Be(ids.SequenceEqual(Enumerable.Range(0, 6)), "label 1 exactly when in order");
            labels.Add(result.Label!.Value);
        }

        labels.Count(l => l == 1).Should().BeInRange(30, 70, "both classes are drawn about equally");
    }

    [Fact]
    public void Temporal_coherence_labels_continuous_clips_1_and_clips_with_a_cut_0()
    {
        var task = new VideoPretext(VideoPretextTask.TemporalCoherence);
        for (var i = 0; i < 100; i++)
        {
            var result = task.Apply(VideoTestData.Clip(8), SampleRandom.For(2, 0, i));
            var ids = FrameIds(result);
            var steps = ids.Zip(ids.Skip(1), (a, b) => (b - a + 8) % 8).ToArray();
            if (result.Label == 1)
            {
                ids.Should().Equal(Enumerable.Range(0, 8));
            }
            else
            {
                steps.Count(s => s != 1).Should().Be(1, "one cut, then the clip plays on from elsewhere");
                ids.First().Should().Be(0);
            }
        }
    }

    [Fact]
    public void Rotation_turns_every_frame_by_the_label()
    {
        var task = new VideoPretext(VideoPretextTask.Rotation);
        task.ClassCount.Should().Be(4);
        var seen = new HashSet<long>();
        for (var i = 0; i < 40; i++)
        {
            var clip = VideoTestData.Clip(3, height: 5, width: 5);
            var result = task.Apply(VideoTestData.Clip(3, height: 5, width: 5), SampleRandom.For(3, 0, i));
            var label = (int)result.Label!.Value;
            seen.Add(label);
            using var scope = NewDisposeScope();
            var expected = rot90(tensor(clip.Values, new long[] { 3, 1, 5, 5 }), label, (2, 3));
            (tensor(result.Values, new long[] { 3, 1, 5, 5 }) - expected).abs().max().item<float>().Should().Be(0f, "the frames are numpy.rot90 by {0} quarter turns", label);
        }

        seen.Should().BeEquivalentTo(new long[] { 0, 1, 2, 3 });
        ((Action)(() => task.Apply(VideoTestData.Clip(2, height: 4, width: 5), SampleRandom.For(0, 0, 0)))).Should().Throw<ArgumentException>().WithMessage("*square*");
        VideoPretext.Labels(new MovingFashionMnist(VideoTestData.Items(3), frames: 2), VideoPretextTask.Rotation).ClassCount.Should().Be(4);
    }

    [Fact]
    public void The_backbone_moves_to_a_fresh_network_and_the_head_stays_new()
    {
        using var scope = NewDisposeScope();
        using var pretext = new FrameCnn(new[] { 4, 6 }, numClasses: 4);
        using var target = new FrameCnn(new[] { 4, 6 }, numClasses: 10);
        var copied = VideoPretext.TransferBackbone(pretext, target);
        copied.Should().NotBeEmpty().And.NotContain(n => n.StartsWith("classifier", StringComparison.Ordinal));
        var source = pretext.state_dict();
        foreach (var (name, value) in target.state_dict().Where(p => !p.Key.StartsWith("classifier", StringComparison.Ordinal)))
        {
            (value.to_type(ScalarType.Float64) - source[name].to_type(ScalarType.Float64)).abs().max().item<double>().Should().Be(0.0, "'{0}' was copied", name);
        }

        using var other = new FrameCnn(new[] { 4, 8 }, numClasses: 10);
        ((Action)(() => VideoPretext.TransferBackbone(pretext, other))).Should().Throw<ArgumentException>().WithMessage("*one architecture*");
    }
}
