using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>Every model's answers to the tail queries of one target language (<see cref="KensEvaluator.Predict"/>); disposing it disposes <see cref="Candidates"/>.</summary>
/// <param name="Target">The target language.</param>
/// <param name="EntityCount">The target graph's entity count.</param>
/// <param name="Languages">The models, by language, in order.</param>
/// <param name="Triples">The queries (h, r, t).</param>
/// <param name="Candidates">[queries, models, k] filtered top-k target entity ids, -1 for an empty slot (CPU int64).</param>
/// <param name="Ranks">[models][queries] each model's filtered rank of the true tail over all target entities it can reach (+infinity: unreachable).</param>
public sealed record KensPredictions(string Target, int EntityCount, IReadOnlyList<string> Languages, IReadOnlyList<Triple> Triples, Tensor Candidates, IReadOnlyList<double[]> Ranks) : IDisposable
{
    /// <inheritdoc />
    public void Dispose() => Candidates.Dispose();
}

/// <summary>Ensemble weights learned on validation for one target language.</summary>
/// <param name="Languages">Models in order.</param>
/// <param name="Mrr">KEnS_mrr: each model's validation MRR.</param>
/// <param name="Entities">KEnS_b: model weights of the entities with enough validation triples.</param>
public sealed record KensWeights(IReadOnlyList<string> Languages, IReadOnlyList<double> Mrr, IReadOnlyDictionary<int, double[]> Entities)
{
    /// <summary>The boosting weights for a query whose head is <paramref name="entity"/> (all 1 without learned weights).</summary>
    /// <param name="entity">Head entity id.</param>
    /// <returns>One weight per model.</returns>
    public double[] ForEntity(int entity) => Entities.TryGetValue(entity, out var w) ? w : Enumerable.Repeat(1.0, Languages.Count).ToArray();
}

/// <summary>Per-target KEnS evaluation: the target's own model alone and the three ensembles.</summary>
/// <param name="Target">The target language.</param>
/// <param name="Single">The target language's model alone (same filter).</param>
/// <param name="Majority">KEnS_m.</param>
/// <param name="Mrr">KEnS_mrr.</param>
/// <param name="Boosted">KEnS_b.</param>
public sealed record KensReport(string Target, EnsembleMetrics Single, EnsembleMetrics Majority, EnsembleMetrics Mrr, EnsembleMetrics Boosted);
