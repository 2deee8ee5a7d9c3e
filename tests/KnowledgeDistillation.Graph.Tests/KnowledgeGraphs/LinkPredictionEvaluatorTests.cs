using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using Xunit;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>Filtered ranks on a tiny KG, computed by hand (including ties).</summary>
public sealed class LinkPredictionEvaluatorTests
{
    // DistMult with dimension 1 and relation value 1 scores (h, r, t) as e_h * e_t.
    // Entity values: e0 = 1, e1 = 2, e2 = 3, e3 = 2, e4 = 0.
    private static DistMult Model()
    {
        var model = new DistMult(5, 1, 1);
        KgTestData.Set(model, new double[,] { { 1 }, { 2 }, { 3 }, { 2 }, { 0 } }, new double[,] { { 1 } });
        return model;
    }

    [Fact]
    public void Ranks_count_higher_scores_and_ties_by_the_chosen_convention()
    {
        using var model = Model();
        var test = new[] { new Triple(0, 0, 1) };
        var known = new KnownTriples(5, 1, test);

        // Tail query (0, r, ?): scores e_t = [1, 2, 3, 2, 0], target e1 = 2: one higher (e2), one tie (e3).
        // Head query (?, r, 1): scores 2 * e_h = [2, 4, 6, 4, 0], target e0 = 2: three higher (e1, e2, e3), no tie.
        new LinkPredictionEvaluator(known).Ranks(model, test).Should().Equal(2.5, 4);
        new LinkPredictionEvaluator(known, ties: TieBreaking.Optimistic).Ranks(model, test).Should().Equal(2, 4);
        new LinkPredictionEvaluator(known, ties: TieBreaking.Pessimistic).Ranks(model, test).Should().Equal(3, 4);
    }

    [Fact]
    public void Known_true_answers_other_than_the_target_are_filtered_on_both_sides()
    {
        using var model = Model();
        var test = new[] { new Triple(0, 0, 1) };
        // (0, r, 2) is known, so e2 leaves the tail query; (3, r, 1) and (2, r, 1) are known, so e3 and e2 leave the head query.
        var known = new KnownTriples(5, 1, test.Concat(new[] { new Triple(0, 0, 2), new Triple(3, 0, 1), new Triple(2, 0, 1) }));
        var evaluator = new LinkPredictionEvaluator(known, batchSize: 1);

        evaluator.Ranks(model, test).Should().Equal(1.5, 2);
        var result = evaluator.Evaluate(model, test);
        result.Queries.Should().Be(2);
        result.Mrr.Should().BeApproximately((1 / 1.5 + 1 / 2.0) / 2, 1e-12);
        result.MeanRank.Should().BeApproximately(1.75, 1e-12);
        result.Hits1.Should().Be(0);
        result.Hits3.Should().Be(1);
        result.Hits10.Should().Be(1);
    }

    [Fact]
    public void Batches_give_the_same_ranks_as_one_query_at_a_time()
    {
        TorchSharp.torch.random.manual_seed(4);
        var graph = KgTestData.Ring(12);
        using var model = new ComplEx(12, 2, 3);
        var all = graph.Train.Concat(graph.Test).ToArray();
        var known = new KnownTriples(12, 2, graph.All);
        new LinkPredictionEvaluator(known, batchSize: 5).Ranks(model, all)
            .Should().Equal(new LinkPredictionEvaluator(known, batchSize: 1).Ranks(model, all));
    }

    [Fact]
    public void Bad_input_is_rejected()
    {
        using var model = Model();
        var known = new KnownTriples(5, 1, new[] { new Triple(0, 0, 1) });
        var evaluator = new LinkPredictionEvaluator(known);
        var empty = () => evaluator.Evaluate(model, Array.Empty<Triple>());
        empty.Should().Throw<ArgumentException>().WithMessage("*no triples*");
        var outside = () => evaluator.Evaluate(model, new[] { new Triple(0, 0, 9) });
        outside.Should().Throw<ArgumentException>().WithMessage("*5 entities*");
    }
}
