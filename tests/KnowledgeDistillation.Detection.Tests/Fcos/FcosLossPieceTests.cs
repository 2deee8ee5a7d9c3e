using FluentAssertions;
using KnowledgeDistillation.Detection.Fcos;
using KnowledgeDistillation.Detection.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Fcos;

public sealed class FcosLossPieceTests
{
    [Fact]
    public void Focal_loss_matches_pytorch_values_and_gradients()
    {
        foreach (var c in Json.Load("detection_terms.json").GetProperty("focal").EnumerateArray())
        {
            var logits = Json.Tensor(c.GetProperty("logits"), requiresGrad: true);
            var targets = Json.Tensor(c.GetProperty("targets"));
            var value = SigmoidFocalLoss.Sum(logits, targets, c.GetProperty("alpha").GetDouble(), c.GetProperty("gamma").GetDouble());
            value.item<double>().Should().BeApproximately(c.GetProperty("value").GetDouble(), 1e-10);
            value.backward();
            Close.Assert(logits.grad!, Json.Tensor(c.GetProperty("grad")));
        }
    }

    [Fact]
    public void Focal_loss_hand_case_and_reduction_is_a_sum()
    {
        // x = 0, y = 1: p = 0.5, BCE = ln 2, (1 - p_t)^2 = 0.25, α_t = 0.25 -> 0.25 · 0.25 · ln 2; two such elements sum.
        var v = SigmoidFocalLoss.Sum(zeros(2, dtype: ScalarType.Float64), ones(2, dtype: ScalarType.Float64));
        v.item<double>().Should().BeApproximately(2 * 0.0625 * Math.Log(2), 1e-12);
        ((Action)(() => SigmoidFocalLoss.Sum(zeros(2), zeros(3)))).Should().Throw<ArgumentException>().WithParameterName("targets");
        ((Action)(() => SigmoidFocalLoss.Sum(zeros(2), zeros(2), gamma: -1))).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Box_losses_match_pytorch_values_and_gradients_and_hand_cases()
    {
        foreach (var c in Json.Load("detection_terms.json").GetProperty("box").EnumerateArray())
        {
            var pred = Json.Tensor(c.GetProperty("pred"), requiresGrad: true);
            var kind = c.GetProperty("kind").GetString() == "iou" ? BoxLossKind.IoU : BoxLossKind.GIoU;
            var per = DistanceBoxLoss.PerRow(pred, Json.Tensor(c.GetProperty("target")), kind);
            Close.Assert(per, Json.Tensor(c.GetProperty("per_row")));
            per.sum().backward();
            Close.Assert(pred.grad!, Json.Tensor(c.GetProperty("grad")));
        }

        // Identical boxes: loss 0. Predicted box inside the target with half its width: IoU 0.5, enclosing = target -> GIoU loss 0.5, IoU loss ln 2.
        var t = tensor(new double[] { 2, 2, 2, 2 }, new long[] { 1, 4 });
        DistanceBoxLoss.PerRow(t, t).item<double>().Should().BeApproximately(0, 1e-12);
        var half = tensor(new double[] { 0, 2, 2, 2 }, new long[] { 1, 4 });
        DistanceBoxLoss.PerRow(half, t).item<double>().Should().BeApproximately(0.5, 1e-12);
        DistanceBoxLoss.PerRow(half, t, BoxLossKind.IoU).item<double>().Should().BeApproximately(Math.Log(2), 1e-12);
        // Disjoint-ish: predicted (0, 1, 1, 1) vs target (1, 1, 0, 1) share the point -> IoU 0 at the point's edge... use a GIoU hand value:
        // pred box [x-0, x+1] x [y-1, y+1], target [x-1, x+0] x [y-1, y+1]: intersection 0, union 4, enclosing 4 -> GIoU 0 -> loss 1.
        DistanceBoxLoss.PerRow(tensor(new double[] { 0, 1, 1, 1 }, new long[] { 1, 4 }), tensor(new double[] { 1, 1, 0, 1 }, new long[] { 1, 4 })).item<double>().Should().BeApproximately(1, 1e-6);
        ((Action)(() => DistanceBoxLoss.PerRow(zeros(2, 3), zeros(2, 3)))).Should().Throw<ArgumentException>().WithParameterName("predicted");
    }
}
