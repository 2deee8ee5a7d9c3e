using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// KEnS's weighted vote over the models' top-k candidate lists: <c>s(e) = sum_j w_j * 1[e in topk_j]</c>, and the rank of
/// the true tail in the voted list. An entity is listed when at least one model lists it. Equal votes are ordered by
/// first appearance when the lists are read model by model, each from its top (the official code's stable sort over
/// an insertion-ordered dictionary, with the target's own model first): the true tail's rank is
/// <c>1 + #listed with a higher vote + #listed with an equal vote that appear first</c>, and +infinity when no model
/// lists it (reciprocal rank 0). Scatters over [queries, entities]; no host loop.
/// </summary>
public static class EnsembleScoring
{
    /// <summary>Ranks of the true tails under the weighted vote.</summary>
    /// <param name="candidates">[queries, models, k] target entity ids, -1 for an empty slot; models in tie-break priority order (the target's own model first).</param>
    /// <param name="weights">[queries, models] (per-query model weights) or [models] (shared).</param>
    /// <param name="targets">[queries] true tail ids.</param>
    /// <param name="entityCount">Entities of the target graph.</param>
    /// <returns>[queries] float64 ranks (+infinity: not listed).</returns>
    public static Tensor Ranks(Tensor candidates, Tensor weights, Tensor targets, int entityCount)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(targets);
        if (candidates.dim() != 3 || candidates.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"'candidates' must be int64 [queries, models, k]; got {candidates.dtype} {Guard.Shape(candidates)}.", nameof(candidates));
        }
        var (q, m, k) = (candidates.shape[0], candidates.shape[1], candidates.shape[2]);
        if (targets.dim() != 1 || targets.shape[0] != q)
        {
            throw new ArgumentException($"'targets' must be [{q}]; got {Guard.Shape(targets)}.", nameof(targets));
        }
        if (!(weights.dim() == 1 && weights.shape[0] == m) && !(weights.dim() == 2 && weights.shape[0] == q && weights.shape[1] == m))
        {
            throw new ArgumentException($"'weights' must be [{m}] or [{q}, {m}]; got {Guard.Shape(weights)}.", nameof(weights));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(entityCount, 1);
        using var scope = NewDisposeScope();
        var device = candidates.device;
        // Empty slots (-1) go to an extra column that is dropped.
        var index = candidates.where(candidates.ge(0), entityCount).reshape(q, m * k);
        var w = (weights.dim() == 1 ? weights.unsqueeze(0).expand(q, m) : weights).to(ScalarType.Float64).to(device);
        var perSlot = w.unsqueeze(2).expand(q, m, k).reshape(q, m * k);
        var votes = zeros(new long[] { q, entityCount + 1 }, ScalarType.Float64, device).scatter_add_(1, index, perSlot).narrow(1, 0, entityCount);
        var listed = zeros(new long[] { q, entityCount + 1 }, ScalarType.Bool, device)
            .scatter_(1, index, ones(new long[] { q, m * k }, ScalarType.Bool, device)).narrow(1, 0, entityCount);
        var t = targets.to(device).unsqueeze(1);
        var target = votes.gather(1, t);
        var higher = (votes.gt(target) & listed).sum(1, type: ScalarType.Float64);
        // Ties: entities with the target's vote whose first slot (model by model, top first) precedes the target's first slot.
        var s = m * k;
        var valid = index.lt(entityCount);
        var same = index.unsqueeze(2).eq(index.unsqueeze(1));                              // [q, s, s'] slot s and s' hold one entity
        var earlier = ones(new long[] { s, s }, ScalarType.Bool, device).tril(-1);       // s' < s
        var firstSlot = (same & earlier.unsqueeze(0)).any(2).logical_not() & valid;     // slot s is its entity's first
        var isTarget = index.eq(t) & valid;
        var slotIds = arange(s, ScalarType.Int64, device).unsqueeze(0).expand(q, s);
        var targetSlot = slotIds.where(isTarget, s).amin(new long[] { 1 }, keepdim: true);
        var slotVotes = votes.gather(1, index.clamp_max(entityCount - 1));
        var earlierTie = (firstSlot & slotIds.lt(targetSlot) & slotVotes.eq(target) & isTarget.logical_not()).sum(1, type: ScalarType.Float64);
        var rank = 1 + higher + earlierTie;
        var isListed = listed.gather(1, t).squeeze(1);
        return rank.where(isListed, double.PositiveInfinity).MoveToOuterDisposeScope();
    }

    /// <summary>Hits@1, Hits@10 and MRR of ranks (+infinity counts as a miss with reciprocal rank 0).</summary>
    /// <param name="ranks">Ranks.</param>
    /// <returns>The summary.</returns>
    public static EnsembleMetrics Summarise(IReadOnlyCollection<double> ranks)
    {
        ArgumentNullException.ThrowIfNull(ranks);
        if (ranks.Count == 0)
        {
            throw new ArgumentException("No ranks to summarise.", nameof(ranks));
        }
        double n = ranks.Count;
        return new EnsembleMetrics(ranks.Count(r => r <= 1) / n, ranks.Count(r => r <= 10) / n, ranks.Sum(r => 1 / r) / n, ranks.Count);
    }
}

/// <summary>Hits@1, Hits@10 and MRR of one model or ensemble on one target language.</summary>
/// <param name="Hits1">Share of queries with rank &lt;= 1.</param>
/// <param name="Hits10">Share of queries with rank &lt;= 10.</param>
/// <param name="Mrr">Mean reciprocal rank (unlisted true tails contribute 0).</param>
/// <param name="Queries">Number of test queries.</param>
public sealed record EnsembleMetrics(double Hits1, double Hits10, double Mrr, int Queries)
{
    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"Hits@1 {Hits1:F4}, Hits@10 {Hits10:F4}, MRR {Mrr:F4} ({Queries} queries)");
}
