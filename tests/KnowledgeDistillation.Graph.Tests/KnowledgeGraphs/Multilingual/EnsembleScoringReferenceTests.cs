using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs.Multilingual;

/// <summary>
/// <see cref="EnsembleScoring.Ranks"/> against the official procedure written out per query: votes accumulated in an
/// insertion-ordered map while the lists are read model by model from the top, a stable sort by vote, the target's
/// position. Random lists with repeated entities, empty slots and exact ties; more queries than one chunk.
/// </summary>
public sealed class EnsembleScoringReferenceTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ranks_equal_the_stable_sort_of_an_insertion_ordered_vote(bool perQueryWeights)
    {
        const int queries = EnsembleScoring.QueryChunk + 301, models = 4, k = 5, entities = 12;
        var rng = new Random(17);
        var candidates = new long[queries * models * k];
        for (var i = 0; i < candidates.Length; i++)
        {
            candidates[i] = rng.Next(10) == 0 ? -1 : rng.Next(entities); // repeats across models and empty slots
        }
        // Weights in halves, so equal sums are exactly equal in floating point and ties really occur.
        var weights = Enumerable.Range(0, perQueryWeights ? queries * models : models).Select(_ => rng.Next(1, 4) / 2.0).ToArray();
        var targets = Enumerable.Range(0, queries).Select(_ => (long)rng.Next(entities)).ToArray();

        using var ranks = EnsembleScoring.Ranks(
            tensor(candidates, new long[] { queries, models, k }),
            perQueryWeights ? tensor(weights, new long[] { queries, models }) : tensor(weights),
            tensor(targets),
            entities);

        var actual = ranks.data<double>().ToArray();
        for (var q = 0; q < queries; q++)
        {
            var votes = new List<(long Entity, double Vote)>();
            for (var j = 0; j < models; j++)
            {
                var weight = perQueryWeights ? weights[q * models + j] : weights[j];
                for (var r = 0; r < k; r++)
                {
                    var e = candidates[(q * models + j) * k + r];
                    if (e < 0)
                    {
                        continue;
                    }
                    var at = votes.FindIndex(v => v.Entity == e);
                    if (at < 0)
                    {
                        votes.Add((e, weight));
                    }
                    else
                    {
                        votes[at] = (e, votes[at].Vote + weight);
                    }
                }
            }
            var order = votes.OrderByDescending(v => v.Vote).ToList(); // LINQ's OrderBy is stable
            var position = order.FindIndex(v => v.Entity == targets[q]);
            var expected = position < 0 ? double.PositiveInfinity : position + 1;
            actual[q].Should().Be(expected, $"query {q}");
        }
    }
}
