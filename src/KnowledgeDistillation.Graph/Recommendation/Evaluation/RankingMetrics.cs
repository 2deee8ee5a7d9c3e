using System.Globalization;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>Full-ranking metrics averaged over the evaluated users (those with at least one test item).</summary>
/// <param name="Recall">Recall@K = hits in the top K / the user's test items, per K.</param>
/// <param name="Ndcg">NDCG@K with binary relevance, ideal DCG over min(test items, K) hits, per K.</param>
/// <param name="HitRate">HR@K = 1 when at least one test item is in the top K, per K.</param>
/// <param name="EvaluatedUsers">Users with at least one test item (the averages' denominator).</param>
/// <param name="SkippedUsers">Users without test items (not evaluated).</param>
public sealed record RankingMetrics(
    IReadOnlyDictionary<int, double> Recall,
    IReadOnlyDictionary<int, double> Ndcg,
    IReadOnlyDictionary<int, double> HitRate,
    int EvaluatedUsers,
    int SkippedUsers)
{
    /// <summary>"Recall@10 0.1234 NDCG@10 ... HR@10 ..." for every K, ascending.</summary>
    public override string ToString() =>
        string.Join(" ", Recall.Keys.Order().Select(k => string.Create(CultureInfo.InvariantCulture,
            $"Recall@{k} {Recall[k]:F4} NDCG@{k} {Ndcg[k]:F4} HR@{k} {HitRate[k]:F4}")));
}
