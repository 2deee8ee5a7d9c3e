using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class CrossEntropyLossTests
{
    public static IEnumerable<object[]> FixtureCases() =>
        from c in LossFixtures.Cases
        from e in c.CrossEntropy
        from dtype in new[] { LossFixtures.Float64, LossFixtures.Float32 }
        where LossFixtures.Pick(e.Float64, e.Float32, dtype) is not null
        select new object[] { c.Name, e.LabelSmoothing, dtype };

    public static IEnumerable<object[]> CaseNames() => LossFixtures.Cases.Select(c => new object[] { c.Name });

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Value_and_gradient_match_pytorch(string caseName, double labelSmoothing, string dtype)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        var reference = LossFixtures.Pick(
            c.CrossEntropy.Single(e => e.LabelSmoothing == labelSmoothing).Float64,
            c.CrossEntropy.Single(e => e.LabelSmoothing == labelSmoothing).Float32,
            dtype)!;
        var student = Matrix(c.Student, DType(dtype));
        var labels = Labels(c.Labels);
        var tolerance = Tolerance(dtype);

        var (value, grad) = ValueAndGrad(student, s => CrossEntropyLoss.Value(s, labels, labelSmoothing));
        value.ShouldBeClose(reference.Value, tolerance, "CE value");
        grad.ShouldBeClose(reference.Grad, tolerance, "CE gradient");

        var loss = new CrossEntropyLoss(labelSmoothing: labelSmoothing);
        var (computed, computedGrad) = ValueAndGrad(student, s => loss.Compute(Context(s, null, labels)).Total);
        computed.ShouldBeClose(reference.Value, tolerance, "CE value via Compute");
        computedGrad.ShouldBeClose(reference.Grad, tolerance, "CE gradient via Compute");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Value_and_gradient_match_the_hand_derived_formulas(string caseName)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        foreach (var epsilon in new[] { 0.0, 0.1, 0.3 })
        {
            var (value, grad) = ValueAndGrad(Matrix(c.Student), s => CrossEntropyLoss.Value(s, Labels(c.Labels), epsilon));
            value.ShouldBeClose(Reference.CrossEntropy(c.Student, c.Labels, epsilon), 1e-12, $"CE(eps={epsilon})");

            // dCE/dz = (softmax(z) - ((1 - eps) onehot + eps / K)) / B
            grad.ShouldBeClose(Reference.CrossEntropyGrad(c.Student, c.Labels, epsilon), 1e-12, $"CE gradient (eps={epsilon})");
        }
    }

    [Fact]
    public void Kd_md_example_cross_entropy_is_0_753109()
    {
        using var scope = torch.NewDisposeScope();
        var zs = Matrix(new[] { new[] { 1.0, 2, 3 }, new[] { 0.0, 0, 0 } });
        Scalar(CrossEntropyLoss.Value(zs, Labels(2, 0))).Should().BeApproximately(0.753109, 1e-6);
        Reference.CrossEntropy(new[] { new[] { 1.0, 2, 3 }, new[] { 0.0, 0, 0 } }, new long[] { 2, 0 })
            .Should().BeApproximately(0.753109, 1e-6);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Gradient_rows_sum_to_zero(string caseName)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        foreach (var epsilon in new[] { 0.0, 0.1, 0.3 })
        {
            var (_, grad) = ValueAndGrad(Matrix(c.Student), s => CrossEntropyLoss.Value(s, Labels(c.Labels), epsilon));
            foreach (var row in grad)
            {
                row.Sum().Should().BeApproximately(0, 1e-12);
            }
        }
    }

    [Fact]
    public void Label_smoothing_is_the_mix_of_hard_and_uniform_cross_entropy()
    {
        // CE_eps = (1 - eps) CE_0 + eps * mean_k(-log softmax(z)_k): a check that does not depend on the smoothing convention of any library.
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var z = Matrix(c.Student);
        var hard = Scalar(CrossEntropyLoss.Value(z, Labels(c.Labels)));
        var uniform = Scalar(-nn.functional.log_softmax(z, 1).mean());
        Scalar(CrossEntropyLoss.Value(z, Labels(c.Labels), 0.3)).Should().BeApproximately((0.7 * hard) + (0.3 * uniform), 1e-12);
    }

    [Fact]
    public void Compute_reports_its_name_and_the_value()
    {
        using var scope = torch.NewDisposeScope();
        var z = Matrix(new[] { new[] { 1.0, 2, 3 }, new[] { 0.0, 0, 0 } });
        var result = new CrossEntropyLoss(name: "hard").Compute(Context(z, null, Labels(2, 0)));
        result.Parts.Keys.Should().Equal("hard");
        Scalar(result.Parts["hard"]).Should().Be(Scalar(result.Total));
    }

    [Fact]
    public void Compute_reads_the_named_participant()
    {
        using var scope = torch.NewDisposeScope();
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(Matrix(new[] { new[] { 0.0, 0, 0 } })),
            ["peer"] = new(Matrix(new[] { new[] { 1.0, 2, 3 } })),
        };
        var context = Context(outputs, Labels(2), 1);
        Scalar(new CrossEntropyLoss("peer").Compute(context).Total)
            .Should().BeApproximately(Reference.CrossEntropy(new[] { new[] { 1.0, 2, 3 } }, new long[] { 2 }), 1e-12);
    }

    // ---- bad input -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Label_smoothing_outside_0_1_is_rejected(double epsilon)
    {
        var act = () => new CrossEntropyLoss(labelSmoothing: epsilon);
        act.Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "labelSmoothing")
            .WithMessage("*labelSmoothing*[0, 1)*");
    }

    [Fact]
    public void Label_smoothing_outside_0_1_is_rejected_by_Value()
    {
        // Value() passes the epsilon straight to libtorch; it should be validated like the constructor's.
        using var scope = torch.NewDisposeScope();
        var act = () => CrossEntropyLoss.Value(Matrix(new[] { new[] { 1.0, 2, 3 } }), Labels(0), 1.5);
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "labelSmoothing");
    }

    [Theory]
    [InlineData(new long[] { 6 })]
    [InlineData(new long[] { 2, 3, 2 })]
    public void Logits_that_are_not_2d_are_rejected(long[] shape)
    {
        using var scope = torch.NewDisposeScope();
        var act = () => CrossEntropyLoss.Value(torch.zeros(shape, ScalarType.Float64), Labels(0, 1));
        act.Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "logits")
            .WithMessage($"*[batch, classes]*[{string.Join(", ", shape)}]*");
    }

    [Fact]
    public void Integer_logits_are_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => CrossEntropyLoss.Value(torch.zeros(2, 3, ScalarType.Int64), Labels(0, 1));
        act.Should().Throw<ArgumentException>().WithMessage("*floating point*");
    }

    [Theory]
    [InlineData(3)]
    [InlineData(1)]
    public void Labels_with_the_wrong_batch_size_are_rejected(int count)
    {
        using var scope = torch.NewDisposeScope();
        var act = () => CrossEntropyLoss.Value(torch.zeros(2, 3, ScalarType.Float64), torch.zeros(count, ScalarType.Int64));
        act.Should().ThrowExactly<ArgumentException>()
            .Where(e => e.ParamName == "targets")
            .WithMessage($"*shape [2]*got [{count}]*");
    }

    [Fact]
    public void Two_dimensional_labels_are_rejected()
    {
        using var scope = torch.NewDisposeScope();
        var act = () => CrossEntropyLoss.Value(torch.zeros(2, 3, ScalarType.Float64), torch.zeros(new long[] { 2, 3 }, ScalarType.Int64));
        act.Should().ThrowExactly<ArgumentException>().WithMessage("*[2]*got [2, 3]*");
    }

    [Theory]
    [InlineData(3L)]
    [InlineData(-1L)]
    public void Labels_out_of_range_are_rejected(long bad)
    {
        using var scope = torch.NewDisposeScope();
        var act = () => CrossEntropyLoss.Value(torch.zeros(2, 3, ScalarType.Float64), Labels(0, bad));
        act.Should().ThrowExactly<ArgumentException>()
            .Where(e => e.ParamName == "targets")
            .WithMessage("*[0, 2]*3 classes*");
    }

    [Theory]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Int8)]
    public void Labels_of_the_wrong_dtype_are_rejected(ScalarType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var act = () => CrossEntropyLoss.Value(torch.zeros(2, 3, ScalarType.Float64), torch.zeros(2, dtype));
        act.Should().ThrowExactly<ArgumentException>()
            .Where(e => e.ParamName == "targets")
            .WithMessage($"*int64*{dtype}*");
    }

    [Fact]
    public void Missing_targets_are_reported()
    {
        using var scope = torch.NewDisposeScope();
        var context = Context(Matrix(new[] { new[] { 1.0, 2, 3 } }), null, null);
        var act = () => new CrossEntropyLoss().Compute(context);
        act.Should().Throw<InvalidOperationException>().WithMessage("*class labels*no targets*");
    }

    [Fact]
    public void A_missing_participant_is_reported_with_the_available_names()
    {
        using var scope = torch.NewDisposeScope();
        var context = Context(Matrix(new[] { new[] { 1.0, 2, 3 } }), Matrix(new[] { new[] { 1.0, 2, 3 } }), Labels(0));
        var act = () => new CrossEntropyLoss("pupil").Compute(context);
        act.Should().Throw<KeyNotFoundException>().WithMessage("*'pupil'*'student'*'teacher'*");
    }

    [Fact]
    public void A_participant_without_logits_is_reported()
    {
        using var scope = torch.NewDisposeScope();
        var outputs = new Dictionary<string, ModelOutput> { ["student"] = new(null) };
        var act = () => new CrossEntropyLoss().Compute(Context(outputs, Labels(0), 1));
        act.Should().Throw<InvalidOperationException>().WithMessage("*'student'*no logits*");
    }

    [Fact]
    public void Null_and_blank_arguments_are_rejected()
    {
        using var scope = torch.NewDisposeScope();
        ((Action)(() => CrossEntropyLoss.Value(null!, Labels(0)))).Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "logits");
        ((Action)(() => CrossEntropyLoss.Value(torch.zeros(1, 3), null!))).Should().Throw<ArgumentNullException>().Where(e => e.ParamName == "targets");
        ((Action)(() => new CrossEntropyLoss().Compute(null!))).Should().Throw<ArgumentNullException>();
        ((Action)(() => new CrossEntropyLoss(" "))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "participant");
        ((Action)(() => new CrossEntropyLoss(name: ""))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "name");
    }
}

/// <summary>The loss contract for <see cref="CrossEntropyLoss"/> (label smoothing 0.1) on the b4_k10 PyTorch fixture.</summary>
public sealed class CrossEntropyLossContractTests : LossContractTests
{
    private static readonly LossCase Fixture = LossFixtures.Case("b4_k10");

    protected override IDistillationLoss CreateLoss() => new CrossEntropyLoss(labelSmoothing: 0.1);

    protected override LossContractCase CreateCase(Device device) => LogitsCase(
        device, [("student", Fixture.Student)], [], Fixture.Labels,
        expected: Fixture.CrossEntropy.Single(e => e.LabelSmoothing == 0.1).Float64.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student"], readsLabels: true));
}
