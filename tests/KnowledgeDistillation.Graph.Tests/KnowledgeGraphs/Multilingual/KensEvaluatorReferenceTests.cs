using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs.Multilingual;

/// <summary>
/// <see cref="KensEvaluator.Predict"/> against a direct reference: every target entity scored (through the alignment for a
/// support model, −∞ where unaligned), the other training tails of (h, r) removed, rank = 1 + #higher + (#equal − 1) / 2,
/// top-k by score. Partial alignment, an unaligned head and an unaligned true tail included.
/// </summary>
public sealed class KensEvaluatorReferenceTests
{
    private const int NA = 14;
    private const int NB = 11;

    [Fact]
    public void Ranks_and_candidates_match_a_dense_reference_under_a_partial_alignment()
    {
        var rng = new Random(5);
        Triple[] Triples(int n, int count) => Enumerable.Range(0, count).Select(_ => new Triple(rng.Next(n), rng.Next(3), rng.Next(n))).Distinct().ToArray();
        var aTrain = Triples(NA, 40);
        var a = new KnowledgeGraph(NA, 3, aTrain, Triples(NA, 5), Triples(NA, 5));
        var b = new KnowledgeGraph(NB, 3, Triples(NB, 30), Triples(NB, 4), Triples(NB, 4));
        // a's entities 0..8 aligned (not in order); 9..13 have no counterpart in b, and b's 9, 10 none in a.
        var pairs = Enumerable.Range(0, 9).Select(i => (i, (i * 4 + 1) % 9)).ToArray();
        var graph = new MultilingualKnowledgeGraph(new Dictionary<string, KnowledgeGraph> { ["a"] = a, ["b"] = b }, new[] { new EntityAlignment("a", "b", pairs) });
        manual_seed(9);
        var models = new Dictionary<string, KgeModel> { ["a"] = new TransE(NA, 3, 6, margin: 4, norm: 2), ["b"] = new TransE(NB, 3, 6, margin: 4, norm: 2) };
        const int k = 4;
        var evaluator = new KensEvaluator(graph, models, new AlignmentState(graph), k: k, batchSize: 5);
        // Queries: training triples of a (their tails are filtered for the others of the same (h, r)), heads on both sides of the alignment.
        var queries = aTrain.Take(17).Append(new Triple(12, 0, 3)).Append(new Triple(2, 1, 11)).ToArray();

        using var p = evaluator.Predict("a", queries);

        var aToB = pairs.ToDictionary(x => x.Item1, x => x.Item2);
        for (var m = 0; m < 2; m++)
        {
            var language = graph.Languages[m];
            for (var q = 0; q < queries.Length; q++)
            {
                var t = queries[q];
                var scores = Reference(models[language], language == "a" ? null : aToB, t, aTrain);
                var expectedRank = double.IsFinite(scores[t.Tail])
                    ? 1 + scores.Count(s => s > scores[t.Tail]) + (scores.Count(s => s == scores[t.Tail]) - 1) / 2.0
                    : double.PositiveInfinity;
                p.Ranks[m][q].Should().Be(expectedRank, $"model {language}, query {t}");
                var expectedTop = Enumerable.Range(0, NA).Where(e => double.IsFinite(scores[e])).OrderByDescending(e => scores[e]).Take(k)
                    .Select(e => (long)e).Concat(Enumerable.Repeat(-1L, k)).Take(k).ToArray();
                var actualTop = Enumerable.Range(0, k).Select(j => p.Candidates[q, m, j].item<long>()).ToArray();
                actualTop.Should().Equal(expectedTop, $"model {language}, query {t}: top {k} target entities by score, -1 where none");
            }
        }
    }

    /// <summary>Scores of every target (a) entity for (h, r, ?) by one model, −∞ where it cannot answer or the training filter removes it.</summary>
    private static double[] Reference(KgeModel model, Dictionary<int, int>? aToB, Triple t, Triple[] aTrain)
    {
        var scores = Enumerable.Repeat(double.NegativeInfinity, NA).ToArray();
        int? head = aToB is null ? t.Head : aToB.TryGetValue(t.Head, out var hb) ? hb : null;
        if (head is { } h)
        {
            using var noGrad = no_grad();
            var all = model.ScoreAllTails(tensor(new long[] { h }), tensor(new long[] { t.Relation })).to_type(ScalarType.Float64).data<double>().ToArray();
            for (var e = 0; e < NA; e++)
            {
                int? column = aToB is null ? e : aToB.TryGetValue(e, out var eb) ? eb : null;
                if (column is { } c)
                {
                    scores[e] = all[c];
                }
            }
        }
        foreach (var other in aTrain.Where(x => x.Head == t.Head && x.Relation == t.Relation && x.Tail != t.Tail))
        {
            scores[other.Tail] = double.NegativeInfinity;
        }
        return scores;
    }
}
