using System.Diagnostics;
using KnowledgeDistillation.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Filtered link prediction (Bordes et al. 2013): for each triple (h, r, t), rank t among all entities for (h, r, ?) and h among
/// all entities for (?, r, t), after removing the other known-true answers (<see cref="KnownTriples"/>, usually train + valid + test).
/// Scores for all entities come from <see cref="KgeModel.ScoreAllTails"/> / <see cref="KgeModel.ScoreAllHeads"/> (matrix products for
/// DistMult and ComplEx) on batches of queries; known answers other than the target are set to −∞ before counting.
/// </summary>
public sealed class LinkPredictionEvaluator
{
    private readonly KnownTriples _known;

    /// <summary>Creates the evaluator.</summary>
    /// <param name="known">The known-true triples to filter.</param>
    /// <param name="batchSize">Queries scored at once, &gt;= 1 (default 256).</param>
    /// <param name="ties">The tie convention (default <see cref="TieBreaking.Mean"/>).</param>
    public LinkPredictionEvaluator(KnownTriples known, int batchSize = 256, TieBreaking ties = TieBreaking.Mean)
    {
        ArgumentNullException.ThrowIfNull(known);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (!Enum.IsDefined(ties))
        {
            throw new ArgumentOutOfRangeException(nameof(ties), ties, "Unknown tie convention.");
        }
        _known = known;
        BatchSize = batchSize;
        Ties = ties;
    }

    /// <summary>Creates an evaluator filtering against train + valid + test of <paramref name="graph"/>.</summary>
    /// <param name="graph">The graph.</param>
    /// <param name="batchSize">Queries scored at once.</param>
    /// <param name="ties">The tie convention.</param>
    public static LinkPredictionEvaluator For(KnowledgeGraph graph, int batchSize = 256, TieBreaking ties = TieBreaking.Mean)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return new LinkPredictionEvaluator(new KnownTriples(graph.EntityCount, graph.RelationCount, graph.All), batchSize, ties);
    }

    /// <summary>Queries scored at once.</summary>
    public int BatchSize { get; }

    /// <summary>The tie convention.</summary>
    public TieBreaking Ties { get; }

    /// <summary>Evaluates a model on triples (head and tail queries), in eval mode without gradients.</summary>
    /// <param name="model">The model.</param>
    /// <param name="triples">The triples to rank (e.g. the test split).</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <param name="logger">Receives the duration.</param>
    /// <returns>MRR, MR and Hits@1/3/10 over 2 × triples queries.</returns>
    /// <exception cref="ArgumentException">No triples, or a triple's id is outside the model's entities or relations.</exception>
    public LinkPredictionResult Evaluate(KgeModel model, IReadOnlyList<Triple> triples, CancellationToken cancellationToken = default, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(triples);
        var ranks = Ranks(model, triples, cancellationToken);
        var result = LinkPredictionResult.FromRanks(ranks);
        (logger ?? NullLogger.Instance).LogDebug("Link prediction on {Count} triples: {Result}", triples.Count, result);
        return result;
    }

    /// <summary>The filtered rank of every query: first the tail queries of all triples, then the head queries.</summary>
    /// <param name="model">The model.</param>
    /// <param name="triples">The triples.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    public double[] Ranks(KgeModel model, IReadOnlyList<Triple> triples, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(triples);
        if (triples.Count == 0)
        {
            throw new ArgumentException("There are no triples to evaluate.", nameof(triples));
        }
        foreach (var t in triples)
        {
            if ((uint)t.Head >= (uint)model.EntityCount || (uint)t.Tail >= (uint)model.EntityCount || (uint)t.Relation >= (uint)model.RelationCount)
            {
                throw new ArgumentException(
                    $"Triple {t} is outside the model's {model.EntityCount} entities / {model.RelationCount} relations.", nameof(triples));
            }
        }
        MklCpuDispatch.Apply(); // MKL's fast kernels on AMD CPUs (KnowledgeDistillation.Runtime)
        var ranks = new double[2 * triples.Count];
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var device = model.EntityEmbeddings.device;
            foreach (var tailSide in new[] { true, false })
            {
                for (var start = 0; start < triples.Count; start += BatchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = NewDisposeScope();
                    var size = Math.Min(BatchSize, triples.Count - start);
                    var batchRanks = RankBatch(model, triples, start, size, tailSide, device);
                    batchRanks.CopyTo(ranks, (tailSide ? 0 : triples.Count) + start);
                }
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        return ranks;
    }

    private double[] RankBatch(KgeModel model, IReadOnlyList<Triple> triples, int start, int size, bool tailSide, Device device)
    {
        var given = new long[size];
        var relation = new long[size];
        var target = new long[size];
        var filter = new List<long>();
        long entities = model.EntityCount;
        for (var i = 0; i < size; i++)
        {
            var t = triples[start + i];
            (given[i], relation[i], target[i]) = tailSide ? (t.Head, t.Relation, t.Tail) : (t.Tail, t.Relation, t.Head);
            var known = tailSide ? _known.Tails(t.Head, t.Relation) : _known.Heads(t.Relation, t.Tail);
            foreach (var e in known)
            {
                if (e != target[i])
                {
                    filter.Add(i * entities + e);
                }
            }
        }
        var givenT = tensor(given, device: device);
        var relationT = tensor(relation, device: device);
        var targetT = tensor(target, device: device).unsqueeze(1);
        var scores = tailSide ? model.ScoreAllTails(givenT, relationT) : model.ScoreAllHeads(relationT, givenT);
        Debug.Assert(scores.shape[0] == size && scores.shape[1] == entities, "scores must be [queries, entities]");
        if (filter.Count > 0)
        {
            scores.view(-1).index_fill_(0, tensor(filter.ToArray(), device: device), double.NegativeInfinity);
        }
        // One pass over [queries, entities]: sign(s - s_target) is +1 for higher, 0 for ties (the target included), -1 for lower
        // (and for filtered -inf). With G higher, L lower, T tied (target included) and N entities: Σ sign = G - L,
        // Σ |sign| = G + L, T = N - G - L. Counts stay exact in float32 (N < 2^24); a difference of two distinct finite floats is
        // never 0, so ties are exact ties. This is ~4x cheaper than two comparisons with integer or float64 sums.
        var targetScore = scores.gather(1, targetT);
        var sign = scores.sub_(targetScore).sign_();
        var sum = sign.sum(1).to(ScalarType.Float64);
        Tensor rank;
        if (Ties == TieBreaking.Mean)
        {
            // 1 + G + (T - 1) / 2 = (N + G - L + 1) / 2
            rank = (sum + (entities + 1)) * 0.5;
        }
        else
        {
            var moved = sign.abs_().sum(1).to(ScalarType.Float64);
            var higher = (sum + moved) * 0.5;
            rank = Ties == TieBreaking.Optimistic ? 1 + higher : entities - (moved - sum) * 0.5;
        }
        return rank.cpu().data<double>().ToArray();
    }
}
