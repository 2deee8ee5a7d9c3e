using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class DistLossTests
{
    private static DistillationTermFixtureFile F => DistillationTermFixtures.Data;

    public static IEnumerable<object[]> Cases() => Enumerable.Range(0, DistillationTermFixtures.Data.Dist.Length).Select(i => new object[] { i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Value_parts_and_gradient_match_the_authors_formula_in_pytorch(int index)
    {
        using var scope = NewDisposeScope();
        var r = F.Dist[index];
        var loss = new DistLoss(r.Beta, r.Gamma, r.Tau);
        var teacher = F.Logits.Teacher.ToTensor();
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(s => (result = loss.Compute(Context(s[0], teacher, null))).Total, F.Logits.Student.ToTensor());
        value.ShouldBeClose(r.Value, 1e-10, $"DIST case {index}");
        grads[0].ShouldMatch(r.Grad, 1e-10, $"DIST case {index} gradient");
        Scalar(result!.Parts["dist.inter"]).ShouldBeClose(r.Inter, 1e-10, "inter-class relation");
        Scalar(result.Parts["dist.intra"]).ShouldBeClose(r.Intra, 1e-10, "intra-class relation");
        Scalar(DistLoss.Value(F.Logits.Student.ToTensor(), teacher, r.Beta, r.Gamma, r.Tau)).ShouldBeClose(r.Value, 1e-10, "DistLoss.Value");
    }

    [Fact]
    public void A_student_whose_probabilities_are_an_affine_map_of_the_teachers_has_zero_relation_loss()
    {
        // Pearson correlation is invariant to a positive affine map: logits whose softmax is a*p_t + b per row give
        // inter = 0 up to the 1e-8 in the correlation's denominator (about 1e-7 relative here).
        using var scope = NewDisposeScope();
        var teacher = F.Logits.Teacher.ToTensor();
        var pt = nn.functional.softmax(teacher, 1);
        var mixed = (0.5 * pt) + (0.5 / pt.shape[1]);
        var (inter, _) = DistLoss.Relations(mixed.log(), teacher, 1.0);
        Scalar(inter).Should().BeApproximately(0, 1e-6);
        Scalar(DistLoss.Relations(mixed.log(), teacher, 1.0).Intra).Should().BeApproximately(0, 1e-5, "one map for every entry keeps the columns correlated too (the 1e-8 is larger relative to the columns' small norms)");
        var (kdLike, _) = DistLoss.Relations(F.Logits.Student.ToTensor(), teacher, 1.0);
        Scalar(kdLike).Should().BeGreaterThan(0.1, "an unrelated student is penalised");
        var (same, sameIntra) = DistLoss.Relations(teacher + 3.0, teacher, 1.0);
        Scalar(same).Should().BeApproximately(0, 1e-6, "a row shift does not change the softmax");
        Scalar(sameIntra).Should().BeApproximately(0, 1e-6);
    }

    [Fact]
    public void Intra_class_relation_of_a_single_sample_batch_is_the_constant_tau_squared()
    {
        // One sample: every class column is constant, its centred vector is 0, the correlation 0/(0 + 1e-8) = 0.
        using var scope = NewDisposeScope();
        var (_, intra) = DistLoss.Relations(tensor(new[] { 1.0, 2.0, 3.0 }, new long[] { 1, 3 }), tensor(new[] { 3.0, 2.0, 1.0 }, new long[] { 1, 3 }), 2.0);
        Scalar(intra).Should().Be(4.0);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-2.0)]
    [InlineData(double.NaN)]
    public void Bad_tau_is_rejected_naming_the_argument(double tau)
    {
        ((Action)(() => new DistLoss(tau: tau))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "tau");
        ((Action)(() => Recipes.Dist(tau: tau))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "tau");
        using var scope = NewDisposeScope();
        ((Action)(() => DistLoss.Relations(zeros(2, 3), zeros(2, 3), tau))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "tau");
    }

    [Fact]
    public void Bad_weights_and_mismatched_class_counts_are_rejected()
    {
        ((Action)(() => new DistLoss(beta: -1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "beta");
        ((Action)(() => new DistLoss(gamma: double.PositiveInfinity))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "gamma");
        using var scope = NewDisposeScope();
        ((Action)(() => DistLoss.Relations(zeros(2, 3), zeros(2, 4), 1))).Should().Throw<ArgumentException>().WithMessage("*Class counts differ*");
    }

    [Fact]
    public void The_recipe_adds_cross_entropy_with_the_cifar_setting()
    {
        var recipe = Recipes.Dist();
        recipe.Name.Should().Be("dist");
        var sum = (SumLoss)recipe.Stages.Single().Loss;
        sum.Terms.Select(t => t.Name).Should().Equal("ce", "dist");
        var dist = (DistLoss)sum.Terms[1];
        (dist.Beta, dist.Gamma, dist.Tau).Should().Be((2.0, 2.0, 4.0));
    }
}

/// <summary>The loss contract for <see cref="DistLoss"/> (β = γ = 2, τ = 4) on the PyTorch fixture.</summary>
public sealed class DistLossContractTests : LossContractTests
{
    private static readonly DistReference Reference = DistillationTermFixtures.Data.Dist.Single(c => c.Tau == 4.0);

    protected override IDistillationLoss CreateLoss() => new DistLoss(Reference.Beta, Reference.Gamma, Reference.Tau);

    protected override LossContractCase CreateCase(Device device) => DistillationTermFixtures.LogitsCase(device, Reference.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(LogitsBadInputs(["student", "teacher"], readsLabels: false));
}
