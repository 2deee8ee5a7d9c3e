namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>Filtered link-prediction metrics over head and tail queries.</summary>
/// <param name="Mrr">Mean reciprocal rank.</param>
/// <param name="MeanRank">Mean rank.</param>
/// <param name="Hits1">Fraction of queries with rank ≤ 1.</param>
/// <param name="Hits3">Fraction with rank ≤ 3.</param>
/// <param name="Hits10">Fraction with rank ≤ 10.</param>
/// <param name="Queries">The number of queries (2 per triple: head and tail).</param>
public sealed record LinkPredictionResult(double Mrr, double MeanRank, double Hits1, double Hits3, double Hits10, long Queries)
{
    /// <summary>Computes the metrics from ranks.</summary>
    /// <param name="ranks">One rank (≥ 1, possibly fractional under <see cref="TieBreaking.Mean"/>) per query.</param>
    public static LinkPredictionResult FromRanks(IReadOnlyCollection<double> ranks)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        if (ranks.Count == 0)
        {
            throw new ArgumentException("No ranks to summarise.", nameof(ranks));
        }
        double n = ranks.Count;
        return new LinkPredictionResult(
            ranks.Sum(r => 1 / r) / n,
            ranks.Sum() / n,
            ranks.Count(r => r <= 1) / n,
            ranks.Count(r => r <= 3) / n,
            ranks.Count(r => r <= 10) / n,
            ranks.Count);
    }

    /// <inheritdoc />
    public override string ToString() =>
        FormattableString.Invariant($"MRR {Mrr:F4}, MR {MeanRank:F1}, Hits@1 {Hits1:F4}, Hits@3 {Hits3:F4}, Hits@10 {Hits10:F4} ({Queries} queries)");
}
