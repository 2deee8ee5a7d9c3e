using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>The oracles of dualde.md ("What a correct implementation must show") and finite-difference gradient checks.</summary>
public sealed class DualDELossTests
{
    private static double V(Tensor t) => KgTestData.Value(t);

    [Fact]
    public void Structure_of_h_3_4_and_t_0_5_has_length_ratio_1_and_angle_0_8_and_is_scale_free()
    {
        var h = tensor(new[] { 3.0, 4.0 });
        var t = tensor(new[] { 0.0, 5.0 });
        V(EmbeddingStructure.LengthRatio(h, t)).Should().BeApproximately(1, 1e-12);
        V(EmbeddingStructure.Angle(h, t)).Should().BeApproximately(0.8, 1e-12);
        V(EmbeddingStructure.LengthRatio(h * 7, t * 7)).Should().BeApproximately(1, 1e-12);
        V(EmbeddingStructure.Angle(h * 7, t * 7)).Should().BeApproximately(0.8, 1e-12);
        // A 2-d student against a 3-d teacher: only dimension-free statistics are compared.
        var d = EmbeddingStructure.Distance(h.unsqueeze(0), t.unsqueeze(0), tensor(new[,] { { 1.0, 0, 0 } }), tensor(new[,] { { 0.0, 2, 0 } }));
        // Angle 0.8 vs 0 -> Huber 0.32; ratio 1 vs 0.5 -> 0.125.
        V(d).Should().BeApproximately(0.32 + 0.125, 1e-12);
    }

    [Fact]
    public void Huber_and_score_distance_match_the_oracle()
    {
        V(KgeLossMath.Huber(tensor(0.5))).Should().BeApproximately(0.125, 1e-12);
        V(KgeLossMath.Huber(tensor(3.0))).Should().BeApproximately(2.5, 1e-12);
        var d = ScoreDistillationLoss.ScoreDistance(tensor(new[] { 0.0 }), tensor(new[] { 2.0 }));
        var diff = 1 / (1 + Math.Exp(-2)) - 0.5;
        diff.Should().BeApproximately(0.3808, 1e-4);
        V(d).Should().BeApproximately(0.5 * diff * diff, 1e-12).And.BeApproximately(0.0725, 1e-4);
        var extreme = ScoreDistillationLoss.ScoreDistance(tensor(new[] { -1e4, 1e4 }), tensor(new[] { 1e4, -1e4 }));
        extreme.max().item<double>().Should().BeLessThanOrEqualTo(0.5);
    }

    [Fact]
    public void Self_adversarial_and_score_distillation_losses_match_hand_computed_values()
    {
        static double S(double x) => 1 / (1 + Math.Exp(-x));
        static double H(double x) => Math.Abs(x) < 1 ? 0.5 * x * x : Math.Abs(x) - 0.5;
        var w1 = Math.Exp(2) / (1 + Math.Exp(2));
        var hard = -Math.Log(S(1)) - ((1 - w1) * Math.Log(S(0)) + w1 * Math.Log(S(-2)));
        V(SelfAdversarialLoss.Value(tensor(new[] { 1.0 }), tensor(new[,] { { 0.0, 2.0 } }), 1)).Should().BeApproximately(hard, 1e-12);
        var plain = -Math.Log(S(1)) - 0.5 * (Math.Log(S(0)) + Math.Log(S(-2)));
        V(SelfAdversarialLoss.Value(tensor(new[] { 1.0 }), tensor(new[,] { { 0.0, 2.0 } }), null)).Should().BeApproximately(plain, 1e-12);

        var kd = H(S(1) - S(3)) + (1 - w1) * H(S(0) - S(-1)) + w1 * H(S(2) - S(0.5));
        V(ScoreDistillationLoss.Value(tensor(new[] { 1.0 }), tensor(new[,] { { 0.0, 2.0 } }), tensor(new[] { 3.0 }), tensor(new[,] { { -1.0, 0.5 } }), 1))
            .Should().BeApproximately(kd, 1e-12);
        var bad = () => SelfAdversarialLoss.Value(tensor(new[] { 1.0, 2.0 }), tensor(new[,] { { 0.0, 2.0 } }), 1);
        bad.Should().Throw<ArgumentException>().Where(e => e.ParamName == "negative").WithMessage("*negative*[1, 2]*batch size 2*");
    }

    [Fact]
    public void Soft_label_weights_at_initialisation_match_the_oracle()
    {
        using var weights = new DualDEWeights();
        V(DualDEWeights.Positive(weights.StudentPositive, tensor(0f))).Should().BeApproximately(0.5, 1e-6);
        V(DualDEWeights.Negative(weights.StudentNegative, tensor(5f))).Should().BeApproximately(1 - 1 / (1 + Math.Exp(-5)), 1e-6)
            .And.BeApproximately(0.0067, 1e-4);
        using var shared = new DualDEWeights(shareStudentSigmoid: true);
        shared.StudentNegative.Should().BeSameAs(shared.StudentPositive);
        weights.StudentNegative.Should().NotBeSameAs(weights.StudentPositive);
    }

    [Fact]
    public void Student_loss_on_hand_made_scores_matches_the_formula()
    {
        // One triple, two negatives, uniform pooling (no adversarial temperature), sigmoids at a = 1, b = 0.
        using var weights = new DualDEWeights();
        var loss = new DualDELoss(weights, adversarialTemperature: null);
        var context = Context(new[] { 1.0 }, new[,] { { -1.0, 2.0 } }, new[] { 2.0 }, new[,] { { 0.0, -3.0 } });

        var result = loss.Compute(context);

        static double S(double x) => 1 / (1 + Math.Exp(-x));
        static double H(double x) => Math.Abs(x) < 1 ? 0.5 * x * x : Math.Abs(x) - 0.5;
        var p = S(2);
        var dPos = H(S(1) - S(2));
        var pNeg = 0.5 * ((1 - S(0)) + (1 - S(-3)));
        var dNeg = 0.5 * (H(S(-1) - S(0)) + H(S(2) - S(-3)));
        var hardPos = -Math.Log(S(1));
        var hardNeg = -0.5 * (Math.Log(S(1)) + Math.Log(S(-2)));
        var expected = p * dPos + pNeg * dNeg + (1 - p) * hardPos + (1 - pNeg) * hardNeg;
        V(result.Total).Should().BeApproximately(expected, 1e-12);
        V(result.Parts["dualde.p-pos"]).Should().BeApproximately(p, 1e-12);
        result.Parts.Keys.Should().NotContain("dualde.soft-teacher");
    }

    [Fact]
    public void With_all_weights_hard_the_student_loss_is_the_self_adversarial_loss()
    {
        using var weights = new DualDEWeights();
        using (no_grad())
        {
            weights.StudentPositive.B.fill_(-1000);
            weights.StudentNegative.B.fill_(1000);
        }
        var loss = new DualDELoss(weights, adversarialTemperature: 1);
        var context = Context(new[] { 1.0, -0.5 }, new[,] { { -1.0, 2.0, 0.3 }, { 0.5, -2.0, 1.0 } }, new[] { 3.0, 1.0 }, new[,] { { 0.0, -3.0, 1.0 }, { 2.0, 2.0, -1.0 } });
        var sPos = context.Outputs["student"].Features["pos"];
        var sNeg = context.Outputs["student"].Features["neg"];
        V(loss.Compute(context).Total).Should().BeApproximately(V(SelfAdversarialLoss.Value(sPos, sNeg, 1)), 1e-9);
    }

    [Fact]
    public void Stage_two_adds_the_teacher_objective_with_weights_from_student_scores()
    {
        using var weights = new DualDEWeights();
        var context = Context(new[] { 1.0 }, new[,] { { -1.0, 2.0 } }, new[] { 2.0 }, new[,] { { 0.0, -3.0 } });
        var stage1 = new DualDELoss(weights, adversarialTemperature: null).Compute(context);
        var stage2 = new DualDELoss(weights, adjustTeacher: true, adversarialTemperature: null).Compute(context);

        static double S(double x) => 1 / (1 + Math.Exp(-x));
        static double H(double x) => Math.Abs(x) < 1 ? 0.5 * x * x : Math.Abs(x) - 0.5;
        var q = S(1);
        var qNeg = 0.5 * ((1 - S(-1)) + (1 - S(2)));
        var dPos = H(S(1) - S(2));
        var dNeg = 0.5 * (H(S(-1) - S(0)) + H(S(2) - S(-3)));
        var teacher = q * dPos + qNeg * dNeg + (1 - q) * -Math.Log(S(2)) + (1 - qNeg) * -0.5 * (Math.Log(S(0)) + Math.Log(S(3)));
        V(stage2.Total).Should().BeApproximately(V(stage1.Total) + teacher, 1e-12);
        V(stage2.Parts["dualde.q-pos"]).Should().BeApproximately(q, 1e-12);
    }

    [Fact]
    public void Gradients_reach_student_teacher_and_sigmoids_and_match_finite_differences()
    {
        using var weights = new DualDEWeights();
        weights.to(ScalarType.Float64);
        var sPos = tensor(new[] { 1.0, -0.5 }, requires_grad: true);
        var sNeg = tensor(new[,] { { -1.0, 2.0, 0.3 }, { 0.5, -2.0, 1.0 } }, requires_grad: true);
        var tPos = tensor(new[] { 3.0, 1.0 }, requires_grad: true);
        var tNeg = tensor(new[,] { { 0.0, -3.0, 1.0 }, { 2.0, 2.0, -1.0 } }, requires_grad: true);
        // Uniform pooling: the self-adversarial weights are detached by design, which finite differences would not see.
        var loss = new DualDELoss(weights, adjustTeacher: true, adversarialTemperature: null);
        Tensor F() => loss.Compute(Context(sPos, sNeg, tPos, tNeg)).Total;

        var leaves = new[] { ("student pos", sPos), ("student neg", sNeg), ("teacher pos", tPos), ("teacher neg", tNeg) }
            .Concat(weights.named_parameters().Select(p => ($"weights.{p.name}", (Tensor)p.parameter)));
        GradientCheck.AssertMatchesFiniteDifferences(F, leaves, tolerance: 1e-6);
        new[] { sPos, sNeg, tPos, tNeg }.Concat(weights.parameters()).Select(l => l.grad).Should().NotContainNulls("every input is trained");
    }

    [Fact]
    public void Mismatched_student_and_teacher_shapes_are_rejected()
    {
        using var weights = new DualDEWeights();
        var context = Context(new[] { 1.0 }, new[,] { { -1.0, 2.0 } }, new[] { 2.0 }, new[,] { { 0.0, -3.0, 1.0 } });
        var act = () => new DualDELoss(weights).Compute(context);
        act.Should().Throw<ArgumentException>().WithMessage("*student negative scores*[1, 2]*teacher negative scores*[1, 3]*");
    }

    private static DistillationContext Context(double[] sPos, double[,] sNeg, double[] tPos, double[,] tNeg) =>
        Context(tensor(sPos), tensor(sNeg), tensor(tPos), tensor(tNeg));

    private static DistillationContext Context(Tensor sPos, Tensor sNeg, Tensor tPos, Tensor tNeg)
    {
        var batch = new Batch(zeros(sPos.shape[0], 3, dtype: ScalarType.Int64), null, arange(sPos.shape[0], dtype: ScalarType.Int64));
        return new DistillationContext(batch, new Dictionary<string, ModelOutput>
        {
            ["student"] = new(null, new Dictionary<string, Tensor> { ["pos"] = sPos, ["neg"] = sNeg }),
            ["teacher"] = new(null, new Dictionary<string, Tensor> { ["pos"] = tPos, ["neg"] = tNeg }),
        });
    }
}
