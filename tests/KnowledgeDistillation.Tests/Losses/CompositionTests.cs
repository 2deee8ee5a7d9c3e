using FluentAssertions;
using KnowledgeDistillation.Losses;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class CompositionTests
{
    public static IEnumerable<object[]> FixtureCases() =>
        from c in LossFixtures.Cases
        from dtype in new[] { LossFixtures.Float64, LossFixtures.Float32 }
        where LossFixtures.Pick(c.Composite.Float64, c.Composite.Float32, dtype) is not null
        select new object[] { c.Name, dtype };

    [Theory]
    [MemberData(nameof(FixtureCases))]
    public void Weighted_kd_plus_ce_matches_pytorch(string caseName, string dtype)
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case(caseName);
        c.Composite.KdWeight.Should().Be(0.9);
        c.Composite.CeWeight.Should().Be(0.1);
        var reference = LossFixtures.Pick(c.Composite.Float64, c.Composite.Float32, dtype)!;
        var teacher = Matrix(c.Teacher, DType(dtype));
        var labels = Labels(c.Labels);
        var tolerance = Tolerance(dtype);

        var operators = (0.9 * new KDLoss(c.Composite.Temperature)) + (0.1 * new CrossEntropyLoss(labelSmoothing: c.Composite.LabelSmoothing));
        var hinton = Loss.Hinton(c.Composite.Temperature, alpha: 0.9);
        foreach (var (what, loss) in new[] { ("0.9 * kd + 0.1 * ce", operators), ("Loss.Hinton(4, 0.9)", hinton) })
        {
            var (value, grad) = ValueAndGrad(Matrix(c.Student, DType(dtype)), s => loss.Compute(Context(s, teacher, labels)).Total);
            value.ShouldBeClose(reference.Value, tolerance, $"{what} value");
            grad.ShouldBeClose(reference.Grad, tolerance, $"{what} gradient");
        }
    }

    [Fact]
    public void Total_is_the_weighted_sum_and_parts_are_the_unweighted_values()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var context = Context(Matrix(c.Student), Matrix(c.Teacher), Labels(c.Labels));
        var kd = new KDLoss(4.0);
        var ce = new CrossEntropyLoss();

        var result = ((0.9 * kd) + (0.1 * ce)).Compute(context);

        var kdValue = Scalar(KDLoss.Value(Matrix(c.Student), Matrix(c.Teacher), 4.0));
        var ceValue = Scalar(CrossEntropyLoss.Value(Matrix(c.Student), Labels(c.Labels)));
        result.Parts.Keys.Should().BeEquivalentTo("kd", "ce");
        Scalar(result.Parts["kd"]).Should().Be(kdValue);
        Scalar(result.Parts["ce"]).Should().Be(ceValue);
        Scalar(result.Total).Should().BeApproximately((0.9 * kdValue) + (0.1 * ceValue), 1e-14);
    }

    [Fact]
    public void Operators_commute_and_nested_sums_flatten()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var context = Context(Matrix(c.Student), Matrix(c.Teacher), Labels(c.Labels));
        var a = (new KDLoss(4.0) * 0.9) + (new CrossEntropyLoss() * 0.1);
        var b = (0.1 * new CrossEntropyLoss()) + (0.9 * new KDLoss(4.0));
        Scalar(a.Compute(context).Total).Should().BeApproximately(Scalar(b.Compute(context).Total), 1e-14);

        var nested = (new KDLoss(4.0) + new CrossEntropyLoss()) + new LogitMatchingLoss();
        var sum = nested.Should().BeOfType<SumLoss>().Subject;
        sum.Terms.Select(t => t.Name).Should().Equal("kd", "ce", "logit-mse");
        var result = nested.Compute(context);
        result.Parts.Keys.Should().BeEquivalentTo("kd", "ce", "logit-mse");
        Scalar(result.Total).Should().BeApproximately(result.Parts.Values.Sum(Scalar), 1e-12);
        nested.Name.Should().Be("total");
    }

    [Fact]
    public void Alpha_zero_is_plain_cross_entropy_exactly()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var c in LossFixtures.Cases)
        {
            var teacher = Matrix(c.Teacher);
            var labels = Labels(c.Labels);
            var (hinton, hintonGrad) = ValueAndGrad(Matrix(c.Student), s => Loss.Hinton(4.0, alpha: 0).Compute(Context(s, teacher, labels)).Total);
            var (ce, ceGrad) = ValueAndGrad(Matrix(c.Student), s => CrossEntropyLoss.Value(s, labels));
            hinton.Should().Be(ce, c.Name);
            hintonGrad.Should().BeEquivalentTo(ceGrad, o => o.WithStrictOrdering(), c.Name);
        }
    }

    [Fact]
    public void Alpha_one_is_plain_kd_exactly()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b16_k100");
        var teacher = Matrix(c.Teacher);
        var labels = Labels(c.Labels);
        var (hinton, hintonGrad) = ValueAndGrad(Matrix(c.Student), s => Loss.Hinton(4.0, alpha: 1).Compute(Context(s, teacher, labels)).Total);
        var (kd, kdGrad) = ValueAndGrad(Matrix(c.Student), s => KDLoss.Value(s, teacher, 4.0));
        hinton.Should().Be(kd);
        hintonGrad.Should().BeEquivalentTo(kdGrad, o => o.WithStrictOrdering());
    }

    [Fact]
    public void Hinton_uses_one_minus_alpha_for_ce()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("kd_md_example");
        var context = Context(Matrix(c.Student), Matrix(c.Teacher), Labels(c.Labels));
        var result = Loss.Hinton(4.0, alpha: 0.25).Compute(context);
        Scalar(result.Total).Should().BeApproximately((0.75 * 0.7531091265562451) + (0.25 * 0.8239160682148434), 1e-12);
        result.Parts.Keys.Should().BeEquivalentTo("ce", "kd");
    }

    [Fact]
    public void Teacher_gets_no_gradient_through_the_composite()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var student = Matrix(c.Student, requiresGrad: true);
        var teacher = Matrix(c.Teacher, requiresGrad: true);
        var loss = Loss.Hinton(4.0, 0.9) + new LogitMatchingLoss() + new InfiniteTemperatureKDLoss();
        loss.Compute(Context(student, teacher, Labels(c.Labels))).Total.backward();
        student.grad.Should().NotBeNull();
        teacher.grad.Should().BeNull();
    }

    [Fact]
    public void Duplicate_names_in_a_sum_are_rejected()
    {
        var act = () => new KDLoss(4.0) + new KDLoss(2.0);
        act.Should().ThrowExactly<ArgumentException>().Where(e => e.ParamName == "terms").WithMessage("*'kd'*distinct names*");

        var weighted = () => (0.5 * new CrossEntropyLoss()) + (0.5 * new CrossEntropyLoss(labelSmoothing: 0.1));
        weighted.Should().ThrowExactly<ArgumentException>().WithMessage("*'ce'*");

        var nested = () => (new KDLoss() + new CrossEntropyLoss()) + new LogitMatchingLoss(name: "kd");
        nested.Should().ThrowExactly<ArgumentException>().WithMessage("*'kd'*");

        var renamed = () => new KDLoss(4.0) + new KDLoss(2.0, name: "kd_t2");
        renamed.Should().NotThrow();
    }

    [Fact]
    public void Colliding_part_names_are_reported()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var loss = new InfiniteTemperatureKDLoss(name: "x") + new LogitMatchingLoss(name: "x.logit-mse");
        var act = () => loss.Compute(Context(Matrix(c.Student), Matrix(c.Teacher), null));
        act.Should().Throw<InvalidOperationException>().WithMessage("*'x.logit-mse'*");
    }

    [Fact]
    public void Empty_sum_is_rejected()
    {
        ((Action)(() => Loss.Sum())).Should().ThrowExactly<ArgumentException>().WithMessage("*at least one*");
        ((Action)(() => Loss.Sum(new KDLoss(), null!))).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Scheduled_weight_follows_the_context_epoch()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b4_k10");
        var kdValue = Scalar(KDLoss.Value(Matrix(c.Student), Matrix(c.Teacher), 4.0));
        var warmUp = Loss.Scheduled(epoch => Math.Min(1.0, epoch / 4.0), new KDLoss(4.0));
        var weighted = warmUp.Should().BeOfType<WeightedLoss>().Subject;
        warmUp.Name.Should().Be("kd");

        foreach (var (epoch, weight) in new[] { (0, 0.0), (1, 0.25), (2, 0.5), (4, 1.0), (10, 1.0) })
        {
            weighted.WeightAt(epoch).Should().Be(weight);
            var result = warmUp.Compute(Context(Matrix(c.Student), Matrix(c.Teacher), null, epoch));
            Scalar(result.Total).Should().BeApproximately(weight * kdValue, 1e-12, "epoch {0}", epoch);
            Scalar(result.Parts["kd"]).Should().Be(kdValue, "parts are unweighted");
        }
    }

    [Fact]
    public void Scheduled_weight_inside_a_sum_follows_the_epoch()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("kd_md_example");
        var loss = new CrossEntropyLoss() + Loss.Scheduled(epoch => epoch, new KDLoss(4.0));
        var at3 = loss.Compute(Context(Matrix(c.Student), Matrix(c.Teacher), Labels(c.Labels), epoch: 3));
        Scalar(at3.Total).Should().BeApproximately(0.7531091265562451 + (3 * 0.8239160682148434), 1e-12);
    }

    [Fact]
    public void A_negative_scheduled_weight_is_rejected_when_used()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b1_k2");
        var loss = Loss.Scheduled(epoch => 1.0 - epoch, new KDLoss());
        var act = () => loss.Compute(Context(Matrix(c.Student), Matrix(c.Teacher), null, epoch: 2));
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "weight").WithMessage("*weight*>= 0*");
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Bad_constant_weights_are_rejected(double weight)
    {
        ((Action)(() => _ = weight * new KDLoss())).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "weight").WithMessage("*weight*finite number >= 0*");
        ((Action)(() => _ = new KDLoss() * weight)).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "weight");
        ((Action)(() => Loss.Weighted(weight, new KDLoss()))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "weight");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.1)]
    [InlineData(double.NaN)]
    public void Hinton_alpha_outside_0_1_is_rejected(double alpha)
    {
        ((Action)(() => Loss.Hinton(4.0, alpha))).Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == "alpha").WithMessage("*alpha*[0, 1]*");
    }

    [Fact]
    public void Any_IDistillationLoss_composes_through_Loss_Of()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("kd_md_example");
        var context = Context(Matrix(c.Student), Matrix(c.Teacher), Labels(c.Labels));
        var custom = new SquaredStudentLoss();
        var loss = (2.0 * Loss.Of(custom)) + new CrossEntropyLoss();
        var result = loss.Compute(context);
        result.Parts.Keys.Should().BeEquivalentTo("sq", "ce");
        Scalar(result.Parts["sq"]).Should().BeApproximately(14.0 / 6, 1e-12);
        Scalar(result.Total).Should().BeApproximately((2 * 14.0 / 6) + 0.7531091265562451, 1e-12);
        Loss.Of(new KDLoss()).Should().BeOfType<KDLoss>("a DistillationLoss is returned as is");
    }

    [Fact]
    public void A_missing_participant_in_a_composite_is_reported()
    {
        using var scope = torch.NewDisposeScope();
        var c = LossFixtures.Case("b1_k2");
        var context = Context(Matrix(c.Student), null, Labels(c.Labels));
        var act = () => Loss.Hinton().Compute(context);
        act.Should().Throw<KeyNotFoundException>().WithMessage("*'teacher'*'student'*");
    }

    /// <summary>A loss implemented directly on the interface: mean of the squared student logits.</summary>
    private sealed class SquaredStudentLoss : IDistillationLoss
    {
        public string Name => "sq";

        public LossResult Compute(DistillationContext context) =>
            new(Name, context.Output("student").RequireLogits("student").square().mean());
    }
}
