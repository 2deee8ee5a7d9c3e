using System.Text.Json;
using FluentAssertions;
using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Evaluation;
using KnowledgeDistillation.Detection.Fcos;
using KnowledgeDistillation.Detection.Tests.Support;
using Xunit;

namespace KnowledgeDistillation.Detection.Tests.Evaluation;

public sealed class MeanAveragePrecisionTests
{
    private static readonly BoundingBox A = new(0, 0, 10, 10);
    private static readonly BoundingBox B = new(20, 20, 30, 30);

    [Fact]
    public void Perfect_detections_score_one_and_no_detections_zero()
    {
        var gt = new[] { new[] { new DetectionObject(0, A), new DetectionObject(1, B) } };
        var perfect = MeanAveragePrecision.Compute(new[] { new[] { new DetectedObject(0, A, 0.9), new DetectedObject(1, B, 0.8) } }, gt, 2);
        perfect.VocMap50.Should().Be(1);
        perfect.CocoMap.Should().BeApproximately(1, 1e-12);
        MeanAveragePrecision.Compute(new[] { Array.Empty<DetectedObject>() }, gt, 2).VocMap50.Should().Be(0);
    }

    [Fact]
    public void Hand_case_false_positive_ranked_first_duplicates_and_difficult()
    {
        // Class 0, two GT boxes (A, B) + one difficult C. Detections by score: FP (0.9), A (0.8), duplicate A (0.7), C (0.6), B (0.5).
        var c = new BoundingBox(50, 50, 60, 60);
        var gt = new[] { new[] { new DetectionObject(0, A), new DetectionObject(0, B), new DetectionObject(0, c, true) } };
        var dets = new[] { new[] { new DetectedObject(0, new BoundingBox(80, 80, 90, 90), 0.9), new DetectedObject(0, A, 0.8), new DetectedObject(0, A, 0.7), new DetectedObject(0, c, 0.6), new DetectedObject(0, B, 0.5) } };
        // VOC: sequence FP, TP, FP, (ignored), TP -> precision 0, 1/2, 1/3, 2/4 at recall 0, .5, .5, 1; envelope: 0.5 up to recall 1 -> AP = 0.5 · 0.5 + 0.5 · 0.5 = 0.5.
        MeanAveragePrecision.VocAp(dets, gt, 0, 0.5).Should().BeApproximately(0.5, 1e-12);
        // COCO: same sequence; 101 recall points: r = 0 .. 0.5 (51 points) precision 0.5, r = 0.51 .. 1 (50 points) 0.5 -> 0.5.
        MeanAveragePrecision.CocoAp(dets, gt, 0, 0.5).Should().BeApproximately(0.5, 1e-12);
        MeanAveragePrecision.VocAp(dets, gt, 1, 0.5).Should().Be(double.NaN, "a class without ground truth has no AP");
    }

    [Fact]
    public void Matches_the_independent_numpy_reference()
    {
        foreach (var c in Json.Load("detection_map.json").GetProperty("cases").EnumerateArray())
        {
            var classes = c.GetProperty("classes").GetInt32();
            var images = c.GetProperty("images").EnumerateArray().ToArray();
            static BoundingBox Box(JsonElement e) => new(e[0].GetDouble(), e[1].GetDouble(), e[2].GetDouble(), e[3].GetDouble());
            var gt = images.Select(i => (IReadOnlyList<DetectionObject>)i.GetProperty("gt").EnumerateArray().Select(g => new DetectionObject(g.GetProperty("class").GetInt32(), Box(g.GetProperty("box")), g.GetProperty("difficult").GetBoolean())).ToArray()).ToArray();
            var det = images.Select(i => (IReadOnlyList<DetectedObject>)i.GetProperty("det").EnumerateArray().Select(d => new DetectedObject(d.GetProperty("class").GetInt32(), Box(d.GetProperty("box")), d.GetProperty("score").GetDouble())).ToArray()).ToArray();
            var result = MeanAveragePrecision.Compute(det, gt, classes);
            result.VocMap50.Should().BeApproximately(c.GetProperty("voc_map50").GetDouble(), 1e-12);
            result.CocoMap.Should().BeApproximately(c.GetProperty("coco_map").GetDouble(), 1e-12);
            result.CocoMap50.Should().BeApproximately(c.GetProperty("coco_map50").GetDouble(), 1e-12);
            result.CocoMap75.Should().BeApproximately(c.GetProperty("coco_map75").GetDouble(), 1e-12);
            var perClass = c.GetProperty("voc_per_class").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble()).ToArray();
            result.VocAp50PerClass.Zip(perClass).Should().OnlyContain(p => (double.IsNaN(p.First) && double.IsNaN(p.Second)) || Math.Abs(p.First - p.Second) < 1e-12);
        }
    }

    [Fact]
    public void Mismatched_inputs_are_refused()
    {
        ((Action)(() => MeanAveragePrecision.Compute(new[] { Array.Empty<DetectedObject>() }, Array.Empty<DetectionObject[]>(), 2))).Should().Throw<ArgumentException>().WithParameterName("detections");
        ((Action)(() => MeanAveragePrecision.Compute(new[] { new[] { new DetectedObject(5, A, 1) } }, new[] { Array.Empty<DetectionObject>() }, 2))).Should().Throw<ArgumentException>().WithParameterName("classes");
    }
}
