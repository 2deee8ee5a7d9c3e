using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>Each scoring function against values computed by hand.</summary>
public sealed class KgeScoringTests
{
    private static readonly double[,] Entities2 = { { 1, 2 }, { 3, -1 }, { 0, 5 } };

    private static double Score(KgeModel model, int h, int r, int t) =>
        KgTestData.Value(model.Score(tensor(new long[] { h }), tensor(new long[] { r }), tensor(new long[] { t })));

    [Fact]
    public void TransE_is_margin_minus_L1_or_L2_distance()
    {
        using var l1 = new TransE(3, 1, 2, margin: 10);
        KgTestData.Set(l1, Entities2, new double[,] { { 1, 1 } });
        // h + r - t = (1+1-3, 2+1+1) = (-1, 4): L1 5, L2 sqrt(17).
        Score(l1, 0, 0, 1).Should().BeApproximately(10 - 5, 1e-5);
        using var l2 = new TransE(3, 1, 2, margin: 10, norm: 2);
        KgTestData.Set(l2, Entities2, new double[,] { { 1, 1 } });
        Score(l2, 0, 0, 1).Should().BeApproximately(10 - Math.Sqrt(17), 1e-5);
    }

    [Fact]
    public void DistMult_is_the_trilinear_product()
    {
        using var model = new DistMult(3, 1, 2);
        KgTestData.Set(model, Entities2, new double[,] { { 2, -1 } });
        // 1*2*3 + 2*(-1)*(-1) = 8
        Score(model, 0, 0, 1).Should().BeApproximately(8, 1e-5);
    }

    [Fact]
    public void ComplEx_is_the_real_part_of_h_r_conj_t()
    {
        using var model = new ComplEx(2, 1, 1);
        // h = 1 + 2i, r = 3 - i, t = 2 + 0.5i: h*r = 3 - i + 6i + 2 = 5 + 5i; times conj(t) = (5+5i)(2-0.5i) = 10 - 2.5i + 10i + 2.5 -> Re 12.5
        KgTestData.Set(model, new double[,] { { 1, 2 }, { 2, 0.5 } }, new double[,] { { 3, -1 } });
        Score(model, 0, 0, 1).Should().BeApproximately(12.5, 1e-5);
    }

    [Fact]
    public void RotatE_is_margin_minus_the_modulus_distance_of_the_rotated_head()
    {
        using var model = new RotatE(2, 1, 2, margin: 6);
        // dim 1: h = 1 rotated by pi/2 -> i; t = 0 + 1i -> |i - i| = 0. dim 2: h = 2 rotated by 0 -> 2; t = 2 - 3i... use t = -1 + 0i -> |2 - (-1)| = 3.
        KgTestData.Set(model, new double[,] { { 1, 2, 0, 0 }, { 0, -1, 1, 0 } }, new double[,] { { Math.PI / 2, 0 } });
        Score(model, 0, 0, 1).Should().BeApproximately(6 - 3, 1e-5);
    }

    [Theory]
    [InlineData("TransE")]
    [InlineData("DistMult")]
    [InlineData("ComplEx")]
    [InlineData("RotatE")]
    public void All_entity_scores_equal_per_triple_scores_and_broadcasting_works(string kind)
    {
        random.manual_seed(1);
        using var model = Create(kind, 7, 3, 4);
        using var scope = NewDisposeScope();
        var h = tensor(new long[] { 0, 3, 6 });
        var r = tensor(new long[] { 2, 0, 1 });
        var t = tensor(new long[] { 5, 1, 2 });
        var all = arange(7, dtype: ScalarType.Int64).unsqueeze(0).expand(3, 7);
        var tails = model.ScoreAllTails(h, r);
        var heads = model.ScoreAllHeads(r, t);
        tails.shape.Should().Equal(3, 7);
        allclose(tails, model.Score(h.unsqueeze(1), r.unsqueeze(1), all), 1e-4, 1e-4).Should().BeTrue();
        allclose(heads, model.Score(all, r.unsqueeze(1), t.unsqueeze(1)), 1e-4, 1e-4).Should().BeTrue();
        allclose(model.Score(h, r, t), tails.gather(1, t.unsqueeze(1)).squeeze(1), 1e-4, 1e-4).Should().BeTrue();
        var negatives = tensor(new long[,] { { 1, 2 }, { 0, 6 }, { 4, 4 } });
        allclose(model.ScoreNegatives(h, r, t, negatives, corruptHead: false), tails.gather(1, negatives), 1e-4, 1e-4).Should().BeTrue();
        allclose(model.ScoreNegatives(h, r, t, negatives, corruptHead: true), heads.gather(1, negatives), 1e-4, 1e-4).Should().BeTrue();
    }

    [Theory]
    [InlineData("TransE")]
    [InlineData("DistMult")]
    [InlineData("ComplEx")]
    [InlineData("RotatE")]
    public void Gradients_of_scores_match_float64_finite_differences(string kind)
    {
        random.manual_seed(2);
        using var model = Create(kind, 4, 2, 3);
        model.to(ScalarType.Float64);
        var h = tensor(new long[] { 0, 1 });
        var r = tensor(new long[] { 1, 0 });
        var t = tensor(new long[] { 2, 3 });
        Tensor F() => (model.Score(h, r, t) * tensor(new[] { 1.0, -0.7 }, dtype: ScalarType.Float64)).sum();
        GradientCheck.AssertMatchesFiniteDifferences(
            F, [($"{kind} entity embeddings", model.EntityEmbeddings), ($"{kind} relation embeddings", model.RelationEmbeddings)], tolerance: 1e-5);
    }

    [Fact]
    public void Bad_index_tensors_are_rejected_before_native_code()
    {
        using var model = new DistMult(3, 1, 2);
        var act = () => model.Score(tensor(new[] { 0f }), tensor(new long[] { 0 }), tensor(new long[] { 1 }));
        act.Should().Throw<ArgumentException>().WithMessage("*'heads' must be int64*");
    }

    internal static KgeModel Create(string kind, int entities, int relations, int dim) => kind switch
    {
        "TransE" => new TransE(entities, relations, dim, margin: 3),
        "DistMult" => new DistMult(entities, relations, dim, initRange: 1),
        "ComplEx" => new ComplEx(entities, relations, dim, initRange: 1),
        _ => new RotatE(entities, relations, dim, margin: 3, initRange: 1),
    };
}
