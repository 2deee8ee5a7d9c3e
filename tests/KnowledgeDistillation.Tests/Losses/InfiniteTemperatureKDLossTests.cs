using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>
/// The T → ∞ limit of KD (<see cref="InfiniteTemperatureKDLoss"/>) and the oracle tests of
/// shared/methods/logits-matching.md (1–5), all in float64.
/// </summary>
public class InfiniteTemperatureKDLossTests
{
    // logits-matching.md worked example: one sample, K = 3.
    private static readonly double[][] Z = { new[] { 1.0, 2, 3 } };
    private static readonly double[][] V = { new[] { 3.0, 2, 1.5 } };
    private static readonly double[][] LimitGrad = { new[] { -0.611111, 0.055556, 0.555556 } };

    public static IEnumerable<object[]> FixtureCases() =>
        from c in LossFixtures.Cases
        from dtype in new[] { LossFixtures.Float64, LossFixtures.Float32 }
        where LossFixtures.Pick(c.InfiniteTemperature.Float64, c.InfiniteTemperature.Float32, dtype) is not null
        select new object[] { c.Name, dtype };

    public static IEnumerable<object[]> CaseNames() => LossFixtures.Cases.Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Value_and_gradient_match_pytorch(string caseName, string dtype)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var reference = LossFixtures.Pick(c.InfiniteTemperature.Float64, c.InfiniteTemperature.Float32, dtype)!;
        var student = Matrix(c.Student, DType(dtype));
        var teacher = Matrix(c.Teacher, DType(dtype));
        var tolerance = Tolerance(dtype);

        var (value, grad) = ValueAndGrad(student, s => InfiniteTemperatureKDLoss.Value(s, teacher));
        value.ShouldBeClose(reference.Value, tolerance, "L_inf value");
        grad.ShouldBeClose(reference.Grad, tolerance, "L_inf gradient");

        var (computed, computedGrad) = ValueAndGrad(student, s => new InfiniteTemperatureKDLoss().Compute(Context(s, teacher, null)).Total);
        computed.ShouldBeClose(reference.Value, tolerance, "L_inf value via Compute");
        computedGrad.ShouldBeClose(reference.Grad, tolerance, "L_inf gradient via Compute");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gradient_is_the_centred_difference_over_K_times_B(string caseName)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var (_, grad) = ValueAndGrad(Matrix(c.Student), s => InfiniteTemperatureKDLoss.Value(s, Matrix(c.Teacher)));
        double kb = c.Batch * c.Classes;
        var d = Map(c.Student, (i, k, v) => v - c.Teacher[i][k]);
        grad.ShouldBeClose(Map(d, (i, _, v) => (v - d[i].Average()) / kb), 1e-12, "(d - mean(d)) / (K B)");
    }

    [Fact]
    public void Compute_reports_the_diagnostic_parts()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var student = Matrix(c.Student);
        var teacher = Matrix(c.Teacher);
        var result = new InfiniteTemperatureKDLoss(name: "inf").Compute(Context(student, teacher, null));

        result.Parts.Keys.Should().BeEquivalentTo("inf", "inf.logit-mse", "inf.mean-gap");
        Scalar(result.Parts["inf"]).Should().Be(Scalar(result.Total));
        Scalar(result.Parts["inf.logit-mse"]).Should().BeApproximately(Scalar(LogitMatchingLoss.Value(student, teacher)), 1e-12);
        var gaps = c.Student.Select((row, i) => row.Average() - c.Teacher[i].Average()).ToArray();
        Scalar(result.Parts["inf.mean-gap"]).Should().BeApproximately(gaps.Average(g => g * g / 2), 1e-12);

        // L_inf = L_LM - (1/2) mean(d)^2, per sample and so for the batch means.
        Scalar(result.Parts["inf.logit-mse"] - result.Parts["inf.mean-gap"]).Should().BeApproximately(Scalar(result.Total), 1e-12);

        // Diagnostics carry no gradient; the total does.
        result.Parts["inf.logit-mse"].requires_grad.Should().BeFalse();
        result.Parts["inf.mean-gap"].requires_grad.Should().BeFalse();
    }

    [Fact]
    public void Mean_gap_is_the_per_sample_difference_of_class_means()
    {
        using var scope = torch.NewDisposeScope();
        var gap = InfiniteTemperatureKDLoss.MeanGap(Matrix(Z), Matrix(V));
        gap.shape.Should().Equal(1);
        Scalar(gap).Should().BeApproximately(-1.0 / 6, 1e-15);
    }

    [Fact]
    public void Teacher_gets_no_gradient()
    {
        using var scope = torch.NewDisposeScope();
        var student = Matrix(Z, requiresGrad: true);
        var teacher = Matrix(V, requiresGrad: true);
        new InfiniteTemperatureKDLoss().Compute(Context(student, teacher, null)).Total.backward();
        student.grad.Should().NotBeNull();
        teacher.grad.Should().BeNull();
    }

    // ---- logits-matching.md -----------------------------------------------------------------------------------

    [Fact]
    public void Worked_example_losses()
    {
        using var scope = torch.NewDisposeScope();
        var z = Matrix(Z);
        var v = Matrix(V);
        Scalar(KDLoss.Value(z, v, 1)).Should().BeApproximately(0.989934, 1e-6);
        Scalar(KDLoss.Value(z, v, 10)).Should().BeApproximately(1.033964, 1e-6);
        Scalar(KDLoss.Value(z, v, 1e3)).Should().BeApproximately(1.027850, 1e-6);
        Scalar(KDLoss.Value(z, v, 1e4)).Should().BeApproximately(1.027785, 1e-6);
        Scalar(InfiniteTemperatureKDLoss.Value(z, v)).Should().BeApproximately(1.027778, 1e-6);

        // Closed forms: L_inf = ||d||^2 / (2K) - mean(d)^2 / 2 = 6.25 / 6 - 1 / 72.
        Scalar(InfiniteTemperatureKDLoss.Value(z, v)).Should().BeApproximately((6.25 / 6) - (1.0 / 72), 1e-15);
    }

    [Fact]
    public void Worked_example_gradients()
    {
        using var scope = torch.NewDisposeScope();
        var v = Matrix(V);
        var (_, limit) = ValueAndGrad(Matrix(Z), s => InfiniteTemperatureKDLoss.Value(s, v));
        MaxAbsDifference(limit, LimitGrad).Should().BeLessThanOrEqualTo(1e-6);

        MaxAbsDifference(KDGrad(1), new[] { new[] { -0.538501, 0.013505, 0.524997 } }).Should().BeLessThanOrEqualTo(1e-6);
        MaxAbsDifference(KDGrad(10), new[] { new[] { -0.609827, 0.050427, 0.559400 } }).Should().BeLessThanOrEqualTo(1e-6);
        MaxAbsDifference(KDGrad(1e4), new[] { new[] { -0.611111, 0.055550, 0.555560 } }).Should().BeLessThanOrEqualTo(1e-6);

        // Documented distances to the limit gradient: 5.1e-4 (T = 100), 5.1e-5 (T = 1e3), 5.1e-6 (T = 1e4).
        MaxAbsDifference(KDGrad(100), limit).Should().BeApproximately(5.1e-4, 0.05e-4);
        MaxAbsDifference(KDGrad(1e3), limit).Should().BeApproximately(5.1e-5, 0.05e-5);
        MaxAbsDifference(KDGrad(1e4), limit).Should().BeApproximately(5.1e-6, 0.05e-6);

        double[][] KDGrad(double temperature) => ValueAndGrad(Matrix(Z), s => KDLoss.Value(s, v, temperature)).Grad;
    }

    [Fact]
    public void Worked_example_fixture_agrees_with_the_document()
    {
        var fixture = LossFixtures.Case("logits_matching_md_example");
        fixture.Kd.Single(e => e.Temperature == 1).Float64.Value.Should().BeApproximately(0.989934, 1e-6);
        fixture.Kd.Single(e => e.Temperature == 1e4).Float64.Value.Should().BeApproximately(1.027785, 1e-6);
        fixture.InfiniteTemperature.Float64.Value.Should().BeApproximately(1.027778, 1e-6);
        MaxAbsDifference(fixture.InfiniteTemperature.Float64.Grad, LimitGrad).Should().BeLessThanOrEqualTo(1e-6);
    }

    [Theory]
    [InlineData("logits_matching_md_example")]
    [InlineData("kd_md_example")]
    [InlineData("b4_k10")]
    public void Kd_gradient_converges_to_the_limit_as_one_over_T(string caseName)
    {
        // logits-matching.md test 1: the error shrinks ~10x per 10x in T.
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var teacher = Matrix(c.Teacher);
        var (_, limit) = ValueAndGrad(Matrix(c.Student), s => InfiniteTemperatureKDLoss.Value(s, teacher));
        var errors = new[] { 1e2, 1e3, 1e4 }
            .Select(t => MaxAbsDifference(ValueAndGrad(Matrix(c.Student), s => KDLoss.Value(s, teacher, t)).Grad, limit))
            .ToArray();
        (errors[0] / errors[1]).Should().BeInRange(8, 12, "error(T=1e2) / error(T=1e3); errors {0}", string.Join(", ", errors));
        (errors[1] / errors[2]).Should().BeInRange(8, 12, "error(T=1e3) / error(T=1e4); errors {0}", string.Join(", ", errors));

        // The losses converge too, at least as fast as 1/T once T is large (at T = 100 the 1/T^2 term can still matter;
        // for symmetric cases the 1/T term vanishes). The slack covers float64 rounding amplified by T^2 (~2e-8 at T = 1e4).
        var limitLoss = Scalar(InfiniteTemperatureKDLoss.Value(Matrix(c.Student), teacher));
        var lossErrors = new[] { 1e2, 1e3, 1e4 }
            .Select(t => Math.Abs(Scalar(KDLoss.Value(Matrix(c.Student), teacher, t)) - limitLoss))
            .ToArray();
        lossErrors[0].Should().BeLessThan(1e-2 * Math.Max(1, limitLoss));
        lossErrors[1].Should().BeLessThan(lossErrors[0]);
        lossErrors[2].Should().BeLessThanOrEqualTo((lossErrors[1] / 10 * 1.2) + 5e-8);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Limit_loss_is_shift_invariant(string caseName)
    {
        // logits-matching.md test 3 (L_inf part): a constant (even a per-row constant) added to the student costs nothing.
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var teacher = Matrix(c.Teacher);
        var (value, grad) = ValueAndGrad(Matrix(c.Student), s => InfiniteTemperatureKDLoss.Value(s, teacher));
        foreach (var shift in new Func<int, double>[] { _ => 5.0, i => (3 * i) - 2.5 })
        {
            var (shiftedValue, shiftedGrad) = ValueAndGrad(Matrix(Map(c.Student, (i, _, x) => x + shift(i))), s => InfiniteTemperatureKDLoss.Value(s, teacher));
            shiftedValue.ShouldBeClose(value, 1e-12, "L_inf(z + c)");
            shiftedGrad.ShouldBeClose(grad, 1e-12, "grad L_inf(z + c)");
        }
    }

    [Theory]
    [InlineData("logits_matching_md_example")]
    [InlineData("b4_k10")]
    [InlineData("b16_k100")]
    public void With_equal_means_large_T_kd_gradient_equals_the_logit_matching_gradient(string caseName)
    {
        // logits-matching.md test 4: move every student row to the teacher row's class mean.
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var equalMean = Map(c.Student, (i, _, x) => x - c.Student[i].Average() + c.Teacher[i].Average());
        var teacher = Matrix(c.Teacher);

        var (lm, lmGrad) = ValueAndGrad(Matrix(equalMean), s => LogitMatchingLoss.Value(s, teacher));
        var (kd, kdGrad) = ValueAndGrad(Matrix(equalMean), s => KDLoss.Value(s, teacher, 1e4));
        MaxAbsDifference(kdGrad, lmGrad).Should().BeLessThanOrEqualTo(1e-4);

        // With equal means the limit is exactly logit matching.
        var (inf, infGrad) = ValueAndGrad(Matrix(equalMean), s => InfiniteTemperatureKDLoss.Value(s, teacher));
        inf.ShouldBeClose(lm, 1e-12, "L_inf = L_LM under equal means");
        infGrad.ShouldBeClose(lmGrad, 1e-12, "grad L_inf = grad L_LM under equal means");
        kd.ShouldBeClose(lm, 1e-3, "KD(T=1e4) ~ L_LM under equal means");
    }

    [Fact]
    public void Without_equal_means_logit_matching_is_not_the_limit()
    {
        // The -(1/2) mean(d)^2 term: the worked example has mean(d) = -1/6.
        using var scope = torch.NewDisposeScope();
        var lm = Scalar(LogitMatchingLoss.Value(Matrix(Z), Matrix(V)));
        var inf = Scalar(InfiniteTemperatureKDLoss.Value(Matrix(Z), Matrix(V)));
        (lm - inf).Should().BeApproximately(1.0 / 72, 1e-15);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    public void One_sgd_step_on_a_linear_head_keeps_the_class_mean_of_weights_and_bias(double labelSmoothing)
    {
        // logits-matching.md test 5: z = W h + b; CE and KD send zero-class-mean gradients to z,
        // so SGD (no weight decay) leaves mean_k W_k and mean_k b_k unchanged.
        using var scope = torch.NewDisposeScope();
        const int B = 8, D = 5, K = 6;
        var rng = new Random(12345);
        double[][] Random(int rows, int columns, double scale) =>
            Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, columns).Select(_ => scale * ((2 * rng.NextDouble()) - 1)).ToArray()).ToArray();

        var h = Matrix(Random(B, D, 2));
        var teacher = Matrix(Random(B, K, 4));
        var labels = Labels(Enumerable.Range(0, B).Select(i => (long)(i % K)).ToArray());
        var weight = new TorchSharp.Modules.Parameter(Matrix(Random(K, D, 1)));
        var bias = new TorchSharp.Modules.Parameter(Matrix(Random(1, K, 1)).reshape(K));
        var optimizer = torch.optim.SGD(new[] { weight, bias }, 0.5);

        var weightMean = weight.detach().mean(new long[] { 0 }).clone();
        var biasMean = Scalar(bias.detach().mean());
        var weightBefore = weight.detach().clone();

        optimizer.zero_grad();
        var z = h.matmul(weight.t()) + bias;
        var loss = new CrossEntropyLoss(labelSmoothing: labelSmoothing) + new KDLoss(4.0);
        loss.Compute(Context(z, teacher, labels)).Total.backward();
        optimizer.step();

        Scalar((weight.detach() - weightBefore).abs().max()).Should().BeGreaterThan(1e-3, "the step must change W");
        Scalar((weight.detach().mean(new long[] { 0 }) - weightMean).abs().max()).Should().BeLessThanOrEqualTo(1e-12);
        Scalar(bias.detach().mean()).Should().BeApproximately(biasMean, 1e-12);
    }

    // ---- bad input -------------------------------------------------------------------------------------------

    [Fact]
    public void Mismatched_class_counts_are_rejected_naming_both_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => InfiniteTemperatureKDLoss.Value(torch.zeros(2, 5, ScalarType.Float64), torch.zeros(2, 3, ScalarType.Float64));
        act.Should().ThrowExactly<ArgumentException>().WithMessage("*[2, 5]*[2, 3]*");
        var gap = () => InfiniteTemperatureKDLoss.MeanGap(torch.zeros(2, 5, ScalarType.Float64), torch.zeros(2, 3, ScalarType.Float64));
        gap.Should().ThrowExactly<ArgumentException>().WithMessage("*[2, 5]*[2, 3]*");
    }

    [Fact]
    public void Mismatched_batch_sizes_are_rejected_naming_both_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => InfiniteTemperatureKDLoss.Value(torch.zeros(2, 5, ScalarType.Float64), torch.zeros(1, 5, ScalarType.Float64));
        act.Should().ThrowExactly<ArgumentException>().WithMessage("*[2, 5]*[1, 5]*");
    }

    [Fact]
    public void Logits_that_are_not_2d_are_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => InfiniteTemperatureKDLoss.Value(torch.zeros(5, ScalarType.Float64), torch.zeros(5, ScalarType.Float64));
        act.Should().ThrowExactly<ArgumentException>().WithMessage("*[batch, classes]*[5]*");
    }

    [Fact]
    public void A_missing_student_is_reported_with_the_available_names()
    {
        using var scope = torch.NewDisposeScope();
        var context = Context(Matrix(Z), Matrix(V), null);
        var act = () => new InfiniteTemperatureKDLoss(student: "small").Compute(context);
        act.Should().Throw<KeyNotFoundException>().WithMessage("*'small'*'student', 'teacher'*");
    }
}

/// <summary>The loss contract for <see cref="InfiniteTemperatureKDLoss"/> (frozen teacher) on the b4_k10 PyTorch fixture.</summary>
public sealed class InfiniteTemperatureKDLossContractTests : LossContractTests
{
    private static readonly LossCase Fixture = LossFixtures.Case("b4_k10");

    protected override IDistillationLoss CreateLoss() => new InfiniteTemperatureKDLoss();

    protected override LossContractCase CreateCase(Device device) => LogitsCase(
        device, [("student", Fixture.Student)], [("teacher", Fixture.Teacher)], labels: null, expected: Fixture.InfiniteTemperature.Float64.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "teacher"], readsLabels: false));
}
