using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class KDLossTests
{
    private static readonly double[][] KdMdStudent = { new[] { 1.0, 2, 3 }, new[] { 0.0, 0, 0 } };
    private static readonly double[][] KdMdTeacher = { new[] { 3.0, 2, 1 }, new[] { 1.0, 0, -1 } };

    public static IEnumerable<object[]> FixtureCases() =>
        from c in LossFixtures.Cases
        from e in c.Kd
        from dtype in new[] { LossFixtures.Float64, LossFixtures.Float32 }
        where LossFixtures.Pick(e.Float64, e.Float32, dtype) is not null
        select new object[] { c.Name, e.Temperature, dtype };

    public static IEnumerable<object[]> CaseNames() => LossFixtures.Cases.Select(c => new object[] { c.Name });

    public static IEnumerable<object[]> Temperatures() => new[] { 1.0, 2.0, 4.0, 10.0, 20.0 }.Select(t => new object[] { t });

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Value_and_gradient_match_pytorch(string caseName, double temperature, string dtype)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var entry = c.Kd.Single(e => e.Temperature == temperature);
        var reference = LossFixtures.Pick(entry.Float64, entry.Float32, dtype)!;
        var student = Matrix(c.Student, DType(dtype));
        var teacher = Matrix(c.Teacher, DType(dtype));
        var tolerance = Tolerance(dtype);
        var valueTolerance = KdValueTolerance(dtype, temperature);

        var (value, grad) = ValueAndGrad(student, s => KDLoss.Value(s, teacher, temperature));
        value.ShouldBeClose(reference.Value, valueTolerance, $"KD(T={temperature}) value");
        grad.ShouldBeClose(reference.Grad, tolerance, $"KD(T={temperature}) gradient");

        var loss = new KDLoss(temperature);
        var (computed, computedGrad) = ValueAndGrad(student, s => loss.Compute(Context(s, teacher, null)).Total);
        computed.ShouldBeClose(reference.Value, valueTolerance, $"KD(T={temperature}) value via Compute");
        computedGrad.ShouldBeClose(reference.Grad, tolerance, $"KD(T={temperature}) gradient via Compute");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Value_and_gradient_match_the_hand_derived_formulas(string caseName)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var teacher = Matrix(c.Teacher);
        foreach (var temperature in new[] { 1.0, 2.0, 4.0, 10.0, 20.0 })
        {
            var (value, grad) = ValueAndGrad(Matrix(c.Student), s => KDLoss.Value(s, teacher, temperature));
            value.ShouldBeClose(Reference.KD(c.Student, c.Teacher, temperature), 1e-12, $"KD(T={temperature})");

            // kd.md: dL_KD/dz_s = (T / B)(p_s^T - p_t^T)
            grad.ShouldBeClose(Reference.KDGrad(c.Student, c.Teacher, temperature), 1e-12, $"KD(T={temperature}) gradient");
        }
    }

    [Fact]
    public void Kd_md_worked_example()
    {
        using var scope = torch.NewDisposeScope();
        var teacher = Matrix(KdMdTeacher);

        // T = 1: KL batchmean = L_KD = 0.708319
        Scalar(KDLoss.Value(Matrix(KdMdStudent), teacher, 1.0)).Should().BeApproximately(0.708319, 1e-6);

        // T = 4: KL batchmean = 0.051495, L_KD = 16 * KL = 0.823916
        var (value, grad) = ValueAndGrad(Matrix(KdMdStudent), s => KDLoss.Value(s, teacher, 4.0));
        value.Should().BeApproximately(0.823916, 1e-6);
        (value / 16).Should().BeApproximately(0.051495, 1e-6);
        var expected = new[] { new[] { -0.329907, 0, 0.329907 }, new[] { -0.171791, 0.013675, 0.158116 } };
        MaxAbsDifference(grad, expected).Should().BeLessThanOrEqualTo(1e-6);

        // Same numbers from the independent double-precision formulas.
        Reference.KD(KdMdStudent, KdMdTeacher, 1.0).Should().BeApproximately(0.708319, 1e-6);
        Reference.KD(KdMdStudent, KdMdTeacher, 4.0).Should().BeApproximately(0.823916, 1e-6);
        MaxAbsDifference(Reference.KDGrad(KdMdStudent, KdMdTeacher, 4.0), expected).Should().BeLessThanOrEqualTo(1e-6);

        // And the fixture (PyTorch) agrees with kd.md.
        var fixture = LossFixtures.Case("kd_md_example");
        fixture.Kd.Single(e => e.Temperature == 1.0).Float64.Value.Should().BeApproximately(0.708319, 1e-6);
        fixture.Kd.Single(e => e.Temperature == 4.0).Float64.Value.Should().BeApproximately(0.823916, 1e-6);
        MaxAbsDifference(fixture.Kd.Single(e => e.Temperature == 4.0).Float64.Grad, expected).Should().BeLessThanOrEqualTo(1e-6);
        fixture.CrossEntropy.Single(e => e.LabelSmoothing == 0).Float64.Value.Should().BeApproximately(0.753109, 1e-6);
    }

    [Fact]
    public void Batch_mean_is_not_the_element_mean()
    {
        // 'mean' over B*K elements would shrink the loss K times (kd.md pitfall): B = 1 makes batchmean = sum.
        using var scope = torch.NewDisposeScope();
        var zs = Matrix(new[] { KdMdStudent[0] });
        var zt = Matrix(new[] { KdMdTeacher[0] });
        var ls = nn.functional.log_softmax(zs, 1);
        var lt = nn.functional.log_softmax(zt, 1);
        var kl = Scalar((lt.exp() * (lt - ls)).sum());
        Scalar(KDLoss.Value(zs, zt, 1.0)).Should().BeApproximately(kl, 1e-15);
    }

    [Theory]
    [MemberData(nameof(Temperatures))]
    public void Shift_invariance_per_row(double temperature)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var shifts = new[] { 3.5, -12.25, 0.0, 100.0 };
        var shifted = Map(c.Student, (i, _, v) => v + shifts[i]);
        var teacher = Matrix(c.Teacher);

        var (value, grad) = ValueAndGrad(Matrix(c.Student), s => KDLoss.Value(s, teacher, temperature));
        var (shiftedValue, shiftedGrad) = ValueAndGrad(Matrix(shifted), s => KDLoss.Value(s, teacher, temperature));
        shiftedValue.ShouldBeClose(value, 1e-12, "KD of shifted student");
        shiftedGrad.ShouldBeClose(grad, 1e-12, "KD gradient of shifted student");
    }

    [Theory]
    [MemberData(nameof(Temperatures))]
    public void Loss_and_gradient_vanish_when_the_student_is_the_teacher_plus_a_row_constant(double temperature)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b16_k100");
        var student = Map(c.Teacher, (i, _, v) => v + (i * 1.75) - 7);
        var (value, grad) = ValueAndGrad(Matrix(student), s => KDLoss.Value(s, Matrix(c.Teacher), temperature));
        value.Should().BeApproximately(0, 1e-12);
        grad.SelectMany(r => r).Max(Math.Abs).Should().BeLessThanOrEqualTo(1e-12);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gradient_rows_sum_to_zero(string caseName)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        foreach (var temperature in new[] { 1.0, 2.0, 4.0, 10.0, 20.0, 1e3 })
        {
            var (_, grad) = ValueAndGrad(Matrix(c.Student), s => KDLoss.Value(s, Matrix(c.Teacher), temperature));
            foreach (var row in grad)
            {
                row.Sum().Should().BeApproximately(0, 1e-12, "T = {0}", temperature);
            }
        }
    }

    [Fact]
    public void Teacher_gets_no_gradient_when_detached()
    {
        using var scope = torch.NewDisposeScope();
        var student = Matrix(KdMdStudent, requiresGrad: true);
        var teacher = Matrix(KdMdTeacher, requiresGrad: true);
        new KDLoss(4.0).Compute(Context(student, teacher, null)).Total.backward();
        student.grad.Should().NotBeNull();
        teacher.grad.Should().BeNull();
    }

    [Fact]
    public void Teacher_gets_a_gradient_when_not_detached()
    {
        // The same set-up as above with detachTeacher: false: shows that the previous test can fail.
        using var scope = torch.NewDisposeScope();
        var student = Matrix(KdMdStudent, requiresGrad: true);
        var teacher = Matrix(KdMdTeacher, requiresGrad: true);
        new KDLoss(4.0, detachTeacher: false).Compute(Context(student, teacher, null)).Total.backward();
        teacher.grad.Should().NotBeNull();
        ToRows(teacher.grad!).SelectMany(r => r).Max(Math.Abs).Should().BeGreaterThan(0.01);
    }

    [Fact]
    public void Teacher_with_minus_infinity_logits_contributes_zero_for_those_classes()
    {
        // A teacher may mask classes with -inf (probability exactly 0). KL uses 0 * log 0 = 0 (PyTorch's xlogy
        // semantics), so the loss equals the loss over the remaining classes with the student renormalised on them:
        // sum_k p_t,k (log p_t,k - log p_s,k) over the unmasked k.
        using var scope = torch.NewDisposeScope();
        var zs = new[] { new[] { 1.0, 2, 3, 0.5 } };
        var zt = Matrix(new[] { new[] { 3.0, 2, double.NegativeInfinity, 1 } });
        var finite = Matrix(new[] { new[] { 3.0, 2, -1e4, 1 } });
        var (value, grad) = ValueAndGrad(Matrix(zs), s => KDLoss.Value(s, zt, 2.0));
        var (expected, expectedGrad) = ValueAndGrad(Matrix(zs), s => KDLoss.Value(s, finite, 2.0));
        double.IsFinite(value).Should().BeTrue("a zero teacher probability must contribute 0, not NaN");
        value.Should().BeApproximately(expected, 1e-12);
        grad.ShouldBeClose(expectedGrad, 1e-12, "KD gradient with a masked teacher class");
    }

    [Fact]
    public void Non_finite_inputs_still_give_a_non_finite_loss()
    {
        // Masking zero teacher probabilities must not hide NaN logits (the engine's non-finite-loss policy relies on it).
        using var scope = torch.NewDisposeScope();
        var nanTeacher = Matrix(new[] { new[] { 3.0, double.NaN, 1 } });
        var nanStudent = Matrix(new[] { new[] { 1.0, double.NaN, 3 } });
        var fine = Matrix(new[] { new[] { 1.0, 2, 3 } });
        double.IsNaN(Scalar(KDLoss.Value(fine, nanTeacher, 4.0))).Should().BeTrue();
        double.IsNaN(Scalar(KDLoss.Value(nanStudent, fine, 4.0))).Should().BeTrue();
    }

    [Fact]
    public void Temperature_applies_to_both_student_and_teacher()
    {
        // KD(z_s, z_t; T) == KD(z_s / T, z_t / T; 1) * T^2
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var zs = Matrix(c.Student);
        var zt = Matrix(c.Teacher);
        Scalar(KDLoss.Value(zs, zt, 4.0)).Should().BeApproximately(Scalar(KDLoss.Value(zs / 4.0, zt / 4.0, 1.0)) * 16, 1e-12);
    }

    // ---- bad input -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void Bad_temperatures_are_rejected(double temperature)
    {
        using var scope = torch.NewDisposeScope();
        ((Action)(() => new KDLoss(temperature))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "temperature").WithMessage("*temperature*finite number > 0*");
        ((Action)(() => KDLoss.Value(Matrix(KdMdStudent), Matrix(KdMdTeacher), temperature))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "temperature").WithMessage("*temperature*finite number > 0*");
        ((Action)(() => Loss.Hinton(temperature))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "temperature");
    }

    [Fact]
    public void Mismatched_class_counts_are_rejected_naming_both_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => KDLoss.Value(torch.zeros(2, 3, ScalarType.Float64), torch.zeros(2, 4, ScalarType.Float64), 4.0);
        act.Should().ThrowExactly<ArgumentException>().WithMessage("*classes*[2, 3]*[2, 4]*");
    }

    [Fact]
    public void Mismatched_batch_sizes_are_rejected_naming_both_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => KDLoss.Value(torch.zeros(2, 3, ScalarType.Float64), torch.zeros(5, 3, ScalarType.Float64), 4.0);
        act.Should().ThrowExactly<ArgumentException>().WithMessage("*Batch sizes differ*[2, 3]*[5, 3]*");
    }

    [Theory]
    [InlineData(new long[] { 3 }, new long[] { 2, 3 }, "student logits")]
    [InlineData(new long[] { 2, 3, 1 }, new long[] { 2, 3 }, "student logits")]
    [InlineData(new long[] { 2, 3 }, new long[] { 3 }, "teacher logits")]
    [InlineData(new long[] { 2, 3 }, new long[] { 2, 3, 4 }, "teacher logits")]
    public void Logits_that_are_not_2d_are_rejected(long[] studentShape, long[] teacherShape, string culprit)
    {
        using var scope = torch.NewDisposeScope();
        var bad = culprit == "student logits" ? studentShape : teacherShape;
        var act = () => KDLoss.Value(torch.zeros(studentShape, ScalarType.Float64), torch.zeros(teacherShape, ScalarType.Float64), 4.0);
        act.Should().ThrowExactly<ArgumentException>()
            .Where(e => e.ParamName == culprit)
            .WithMessage($"{culprit} must have shape [batch, classes]; got [{string.Join(", ", bad)}]*");
    }

    [Fact]
    public void A_missing_teacher_is_reported_with_the_available_names()
    {
        using var scope = torch.NewDisposeScope();
        var context = Context(Matrix(KdMdStudent), Matrix(KdMdTeacher), null);
        var act = () => new KDLoss(teacher: "resnet").Compute(context);
        act.Should().Throw<KeyNotFoundException>().WithMessage("*'resnet'*'student', 'teacher'*");
    }

    [Fact]
    public void Null_arguments_are_rejected()
    {
        using var scope = torch.NewDisposeScope();
        ((Action)(() => KDLoss.Value(null!, Matrix(KdMdTeacher), 4))).Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "studentLogits");
        ((Action)(() => KDLoss.Value(Matrix(KdMdStudent), null!, 4))).Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "teacherLogits");
        ((Action)(() => new KDLoss().Compute(null!))).Should().Throw<ArgumentNullException>();
        ((Action)(() => new KDLoss(teacher: ""))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "teacher");
    }
}

/// <summary>The loss contract for <see cref="KDLoss"/> (T = 4, frozen teacher) on the b4_k10 PyTorch fixture.</summary>
public sealed class KDLossContractTests : LossContractTests
{
    private static readonly LossCase Fixture = LossFixtures.Case("b4_k10");

    protected override IDistillationLoss CreateLoss() => new KDLoss(4.0);

    protected override LossContractCase CreateCase(Device device) => LogitsCase(
        device, [("student", Fixture.Student)], [("teacher", Fixture.Teacher)], labels: null,
        expected: Fixture.Kd.Single(e => e.Temperature == 4.0).Float64.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "teacher"], readsLabels: false));
}
