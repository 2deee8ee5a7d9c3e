using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// KEnS's weighted vote over the models' top-k candidate lists: <c>s(e) = sum_j w_j * 1[e in topk_j]</c>, and the rank of
/// the true tail in the voted list. An entity is listed when at least one model lists it. Equal votes are ordered by
/// first appearance when the lists are read model by model, each from its top (the official code's stable sort over
/// an insertion-ordered dictionary, with the target's own model first): the true tail's rank is
/// <c>1 + #listed with a higher vote + #listed with an equal vote that appear first</c>, and +infinity when no model
/// lists it (reciprocal rank 0). Works on the m·k listed slots of each query only (an entity's vote is the sum of the
/// weights of the slots that hold it), in chunks of <see cref="QueryChunk"/> queries: memory and time grow with
/// queries · (m·k)², not with queries · entities; no host loop.
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
        var w = (weights.dim() == 1 ? weights.unsqueeze(0).expand(q, m) : weights).to(ScalarType.Float64).to(device);
        var t = targets.to(device);
        var chunks = new List<Tensor>();
        for (long start = 0; start < q; start += QueryChunk)
        {
            var n = Math.Min(QueryChunk, q - start);
            chunks.Add(ChunkRanks(candidates.narrow(0, start, n).reshape(n, m * k), w.narrow(0, start, n), k, t.narrow(0, start, n).unsqueeze(1)));
        }
        return (chunks.Count == 1 ? chunks[0] : cat(chunks)).MoveToOuterDisposeScope();
    }

    /// <summary>Queries ranked at once by <see cref="Ranks"/> (bounds its memory: about 20 KB per query for 5 models x 10).</summary>
    public const int QueryChunk = 1024;

    private static Tensor ChunkRanks(Tensor index, Tensor modelWeights, long k, Tensor t)
    {
        var (q, s) = (index.shape[0], index.shape[1]);
        var device = index.device;
        var valid = index.ge(0);
        var perSlot = modelWeights.unsqueeze(2).expand(q, s / k, k).reshape(q, s).where(valid, 0.0);
        var same = index.unsqueeze(2).eq(index.unsqueeze(1)) & valid.unsqueeze(2) & valid.unsqueeze(1); // [q, s, s'] one entity in both slots
        var slotVotes = same.to(ScalarType.Float64).bmm(perSlot.unsqueeze(2)).squeeze(2);                // the vote of slot s's entity
        var earlier = ones(new long[] { s, s }, ScalarType.Bool, device).tril(-1);                        // s' < s
        var firstSlot = (same & earlier.unsqueeze(0)).any(2).logical_not() & valid;                       // slot s is its entity's first
        var isTarget = index.eq(t) & valid;
        var slotIds = arange(s, ScalarType.Int64, device).unsqueeze(0).expand(q, s);
        var targetSlot = slotIds.where(isTarget, s).amin(new long[] { 1 }, keepdim: true);
        var isListed = targetSlot.lt(s);
        // The target's vote is read from its own slot, so it equals its entity's slotVotes bit for bit (ties compare exactly).
        var target = slotVotes.gather(1, targetSlot.clamp_max(s - 1));
        var higher = (firstSlot & slotVotes.gt(target)).sum(1, type: ScalarType.Float64);
        // Ties: entities with the target's vote whose first slot (model by model, top first) precedes the target's first slot.
        var earlierTie = (firstSlot & slotIds.lt(targetSlot) & slotVotes.eq(target) & isTarget.logical_not()).sum(1, type: ScalarType.Float64);
        return (1 + higher + earlierTie).where(isListed.squeeze(1), double.PositiveInfinity);
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
