using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class LogitMatchingLossTests
{
    public static IEnumerable<object[]> FixtureCases() =>
        from c in LossFixtures.Cases
        from dtype in new[] { LossFixtures.Float64, LossFixtures.Float32 }
        where LossFixtures.Pick(c.LogitMatching.Float64, c.LogitMatching.Float32, dtype) is not null
        select new object[] { c.Name, dtype };

    public static IEnumerable<object[]> CaseNames() => LossFixtures.Cases.Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Value_and_gradient_match_pytorch(string caseName, string dtype)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var reference = LossFixtures.Pick(c.LogitMatching.Float64, c.LogitMatching.Float32, dtype)!;
        var student = Matrix(c.Student, DType(dtype));
        var teacher = Matrix(c.Teacher, DType(dtype));
        var tolerance = Tolerance(dtype);

        var (value, grad) = ValueAndGrad(student, s => LogitMatchingLoss.Value(s, teacher));
        value.ShouldBeClose(reference.Value, tolerance, "LM value");
        grad.ShouldBeClose(reference.Grad, tolerance, "LM gradient");

        var (computed, computedGrad) = ValueAndGrad(student, s => new LogitMatchingLoss().Compute(Context(s, teacher, null)).Total);
        computed.ShouldBeClose(reference.Value, tolerance, "LM value via Compute");
        computedGrad.ShouldBeClose(reference.Grad, tolerance, "LM gradient via Compute");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gradient_is_the_difference_over_K_times_B(string caseName)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var (value, grad) = ValueAndGrad(Matrix(c.Student), s => LogitMatchingLoss.Value(s, Matrix(c.Teacher)));
        double kb = c.Batch * c.Classes;
        var d = Map(c.Student, (i, k, v) => v - c.Teacher[i][k]);
        value.ShouldBeClose(d.SelectMany(r => r).Sum(x => x * x) / (2 * kb), 1e-12, "LM value");
        grad.ShouldBeClose(Map(d, (_, _, v) => v / kb), 1e-12, "LM gradient");
    }

    [Fact]
    public void Logits_matching_md_worked_example()
    {
        using var scope = torch.NewDisposeScope();

        // z = [1, 2, 3], v = [3, 2, 1.5]: d = [-2, 0, 1.5], ||d||^2 / (2K) = 6.25 / 6
        var (value, grad) = ValueAndGrad(Matrix(new[] { new[] { 1.0, 2, 3 } }), s => LogitMatchingLoss.Value(s, Matrix(new[] { new[] { 3.0, 2, 1.5 } })));
        value.Should().BeApproximately(6.25 / 6, 1e-15);
        grad.ShouldBeClose(new[] { new[] { -2.0 / 3, 0, 0.5 } }, 1e-15, "LM gradient");
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(-2.5)]
    [InlineData(10.0)]
    public void Shifting_the_student_changes_the_loss_by_c_mean_d_plus_half_c_squared(double c)
    {
        // logits-matching.md test 3: L_LM(z + c) - L_LM(z) = c * mean(d) + c^2 / 2 (batch mean of the per-sample identity).
        using var scope = torch.NewDisposeScope();
        foreach (var name in new[] { "logits_matching_md_example", "b4_k10", "b16_k100" })
        {
            var fixture = LossFixtures.Case(name);
            var teacher = Matrix(fixture.Teacher);
            var before = Scalar(LogitMatchingLoss.Value(Matrix(fixture.Student), teacher));
            var after = Scalar(LogitMatchingLoss.Value(Matrix(Map(fixture.Student, (_, _, v) => v + c)), teacher));
            var meanD = Map(fixture.Student, (i, k, v) => v - fixture.Teacher[i][k]).SelectMany(r => r).Average();
            (after - before).ShouldBeClose((c * meanD) + (c * c / 2), 1e-12, $"{name}: L_LM(z + {c}) - L_LM(z)");
        }
    }

    [Fact]
    public void Teacher_gets_no_gradient()
    {
        using var scope = torch.NewDisposeScope();
        var student = Matrix(new[] { new[] { 1.0, 2, 3 } }, requiresGrad: true);
        var teacher = Matrix(new[] { new[] { 3.0, 2, 1.5 } }, requiresGrad: true);
        new LogitMatchingLoss().Compute(Context(student, teacher, null)).Total.backward();
        student.grad.Should().NotBeNull();
        teacher.grad.Should().BeNull();
    }

    [Fact]
    public void Compute_reports_its_name()
    {
        using var scope = torch.NewDisposeScope();
        var result = new LogitMatchingLoss().Compute(Context(Matrix(new[] { new[] { 1.0, 2, 3 } }), Matrix(new[] { new[] { 3.0, 2, 1.5 } }), null));
        result.Parts.Keys.Should().Equal("logit-mse");
    }

    // ---- bad input -------------------------------------------------------------------------------------------

    [Fact]
    public void Mismatched_class_counts_are_rejected_naming_both_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => LogitMatchingLoss.Value(torch.zeros(4, 10, ScalarType.Float64), torch.zeros(4, 100, ScalarType.Float64));
        act.Should().ThrowExactly<ArgumentException>().WithMessage("*[4, 10]*[4, 100]*same classes*");
    }

    [Fact]
    public void Mismatched_batch_sizes_are_rejected_naming_both_shapes()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => LogitMatchingLoss.Value(torch.zeros(4, 10, ScalarType.Float64), torch.zeros(3, 10, ScalarType.Float64));
        act.Should().ThrowExactly<ArgumentException>().WithMessage("*[4, 10]*[3, 10]*");
    }

    [Fact]
    public void Logits_that_are_not_2d_are_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => LogitMatchingLoss.Value(torch.zeros(new long[] { 4, 10, 2 }, ScalarType.Float64), torch.zeros(4, 10, ScalarType.Float64));
        act.Should().ThrowExactly<ArgumentException>().WithMessage("*[batch, classes]*[4, 10, 2]*");
    }

    [Fact]
    public void A_missing_participant_is_reported_with_the_available_names()
    {
        using var scope = torch.NewDisposeScope();
        var context = Context(Matrix(new[] { new[] { 1.0, 2, 3 } }), null, null);
        var act = () => new LogitMatchingLoss().Compute(context);
        act.Should().Throw<KeyNotFoundException>().WithMessage("*'teacher'*'student'*");
    }
}

/// <summary>The loss contract for <see cref="LogitMatchingLoss"/> (frozen teacher) on the b4_k10 PyTorch fixture.</summary>
public sealed class LogitMatchingLossContractTests : LossContractTests
{
    private static readonly LossCase Fixture = LossFixtures.Case("b4_k10");

    protected override IDistillationLoss CreateLoss() => new LogitMatchingLoss();

    protected override LossContractCase CreateCase(Device device) => LogitsCase(
        device, [("student", Fixture.Student)], [("teacher", Fixture.Teacher)], labels: null, expected: Fixture.LogitMatching.Float64.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "teacher"], readsLabels: false));
}
