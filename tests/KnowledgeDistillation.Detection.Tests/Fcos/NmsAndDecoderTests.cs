using FluentAssertions;
using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Fcos;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Fcos;

public sealed class NmsAndDecoderTests
{
    [Fact]
    public void Nms_keeps_the_best_of_overlapping_boxes_per_class()
    {
        var d = new[]
        {
            new DetectedObject(0, new BoundingBox(0, 0, 10, 10), 0.9),
            new DetectedObject(0, new BoundingBox(1, 0, 11, 10), 0.8),    // IoU 9/11 = 0.82 with the first: suppressed
            new DetectedObject(1, new BoundingBox(1, 0, 11, 10), 0.7),    // other class: kept
            new DetectedObject(0, new BoundingBox(5, 0, 15, 10), 0.95),   // IoU 5/15 = 0.33 with the first: both kept
            new DetectedObject(0, new BoundingBox(20, 20, 30, 30), 0.1),
        };
        NonMaximumSuppression.Keep(d, 0.5).Should().Equal(3, 0, 2, 4);
        NonMaximumSuppression.Keep(d, 0.3).Should().Equal(new[] { 3, 2, 4 }, "0.33 > 0.3 suppresses box 0 under box 3");
        NonMaximumSuppression.Keep(d, 0.5, classAware: false).Should().Equal(3, 0, 4);
        NonMaximumSuppression.Keep(Array.Empty<DetectedObject>(), 0.5).Should().BeEmpty();
        ((Action)(() => NonMaximumSuppression.Keep(d, 1.5))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Decoder_hand_case_thresholds_scores_builds_clipped_boxes_and_suppresses()
    {
        // Three points, two classes. Point 0 class 1 p = 0.9, ctr p = 0.4 -> score sqrt(0.36) = 0.6; point 1 duplicates it (lower);
        // point 2 class 0 p = 0.02 (< 0.05: dropped).
        static double Logit(double p) => Math.Log(p / (1 - p));
        var cls = tensor(new[] { Logit(0.01), Logit(0.9), Logit(0.01), Logit(0.5), Logit(0.02), Logit(0.01) }, new long[] { 1, 3, 2 });
        var ctr = tensor(new[] { Logit(0.4), Logit(0.4), Logit(0.9) }, new long[] { 1, 3 });
        var box = tensor(new double[] { 5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1 }, new long[] { 1, 3, 4 });
        var points = tensor(new float[] { 10, 10, 11, 10, 40, 40 }, new long[] { 3, 2 });
        var sizes = tensor(new float[] { 30, 14 }, new long[] { 1, 2 });    // height 30, width 14: boxes clip at x = 14
        var result = new FcosDecoder().Decode(cls, box, ctr, points, sizes).Single();
        result.Should().ContainSingle();
        result[0].ClassIndex.Should().Be(1);
        result[0].Score.Should().BeApproximately(0.6, 1e-6);
        result[0].Box.Should().Be(new BoundingBox(5, 5, 14, 15));
        new FcosDecoder(new FcosDecoderOptions { NmsThreshold = 1 }).Decode(cls, box, ctr, points, sizes).Single().Should().HaveCount(2);
        new FcosDecoder(new FcosDecoderOptions { MaxDetections = 1, NmsThreshold = 1 }).Decode(cls, box, ctr, points, sizes).Single().Should().ContainSingle();
        ((Action)(() => new FcosDecoder().Decode(cls, box, ctr, points[..2], sizes))).Should().Throw<ArgumentException>().WithParameterName("cls");
    }
}
