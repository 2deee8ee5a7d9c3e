using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Mini-batches of queries for 1-N scoring (Dettmers et al. 2018, ConvE; PyKEEN's LCWA training loop): each distinct
/// tail query (h, r, ?) and, with <see cref="BothDirections"/>, each head query (?, r, t) of the training triples is one
/// sample, scored against every entity by <see cref="OneToNLoss"/> with all its known training answers as positives.
/// A batch holds queries of one direction (tail-query and head-query batches are interleaved in the shuffled order):
/// <see cref="Batch.Inputs"/> = int64 [B, 3] (head, relation, tail) with the queried slot set to the query's first answer
/// (so positive scores stay defined), <see cref="Batch.Indices"/> = the query's index, and extras
/// <see cref="QuerySideKey"/> = int64 [1] (0: tails of (h, r) are scored, 1: heads of (r, t)) and <see cref="AnswersKey"/> =
/// int64 [A, 2] (row in the batch, answer entity) for every known answer. Order is a pure function of (seed, epoch).
/// </summary>
public sealed class QueryBatchSource : IBatchSource
{
    /// <summary>The extra telling which slot the batch's queries ask for: int64 [1], 0 = tail, 1 = head.</summary>
    public const string QuerySideKey = "query_side";

    /// <summary>The extra listing the answers: int64 [A, 2] (row of the batch, entity id).</summary>
    public const string AnswersKey = "answers";

    private readonly Query[] _queries;

    /// <summary>Creates the source.</summary>
    /// <param name="triples">The training triples (non-empty).</param>
    /// <param name="entityCount">Entity ids are in [0, entityCount).</param>
    /// <param name="batchSize">Queries per batch, &gt;= 1.</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <param name="bothDirections">Also train head queries (?, r, t) (default true; ConvE-style models use reciprocal relations instead).</param>
    /// <param name="shuffle">Whether to shuffle each epoch.</param>
    /// <exception cref="ArgumentException">Empty triples, or a triple's entity is outside [0, entityCount).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public QueryBatchSource(IReadOnlyList<Triple> triples, int entityCount, int batchSize, int seed = 0, bool bothDirections = true, bool shuffle = true)
    {
        ArgumentNullException.ThrowIfNull(triples);
        if (triples.Count == 0)
        {
            throw new ArgumentException("The triples are empty.", nameof(triples));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(entityCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        foreach (var t in triples)
        {
            if ((uint)t.Head >= (uint)entityCount || (uint)t.Tail >= (uint)entityCount || t.Relation < 0)
            {
                throw new ArgumentException($"Triple {t} has an entity outside [0, {entityCount - 1}] or a negative relation.", nameof(triples));
            }
        }

        EntityCount = entityCount;
        BatchSize = batchSize;
        Seed = seed;
        BothDirections = bothDirections;
        Shuffle = shuffle;
        var distinct = triples.Distinct().ToArray();
        var queries = distinct.GroupBy(t => (t.Head, t.Relation))
            .Select(g => new Query(0, g.Key.Head, g.Key.Relation, g.Select(t => (long)t.Tail).Order().ToArray()));
        if (bothDirections)
        {
            queries = queries.Concat(distinct.GroupBy(t => (t.Relation, t.Tail))
                .Select(g => new Query(1, g.Key.Tail, g.Key.Relation, g.Select(t => (long)t.Head).Order().ToArray())));
        }

        _queries = queries.ToArray();
        TailQueryCount = _queries.Count(q => q.Side == 0);
        BatchCount = Batches(0).Length;
    }

    /// <summary>Entities scored per query.</summary>
    public int EntityCount { get; }

    /// <summary>Queries per batch (the last batch of each direction may be smaller).</summary>
    public int BatchSize { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>Whether head queries are trained too.</summary>
    public bool BothDirections { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>The number of distinct tail queries (h, r, ?); the rest are head queries.</summary>
    public int TailQueryCount { get; }

    /// <inheritdoc />
    public long SampleCount => _queries.Length;

    /// <inheritdoc />
    public int BatchCount { get; }

    /// <inheritdoc />
    public int? ClassCount => null;

    /// <inheritdoc />
    public IEnumerable<Batch> GetBatches(int epoch, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (var members in Batches(epoch))
        {
            var inputs = new long[members.Length * 3];
            var indices = new long[members.Length];
            var answers = new List<long>();
            for (var i = 0; i < members.Length; i++)
            {
                var q = _queries[members[i]];
                indices[i] = members[i];
                inputs[3 * i] = q.Side == 0 ? q.Entity : q.Answers[0];
                inputs[3 * i + 1] = q.Relation;
                inputs[3 * i + 2] = q.Side == 0 ? q.Answers[0] : q.Entity;
                foreach (var a in q.Answers)
                {
                    answers.Add(i);
                    answers.Add(a);
                }
            }

            yield return new Batch(
                tensor(inputs, new long[] { members.Length, 3 }, device: device),
                null,
                tensor(indices, device: device),
                new Dictionary<string, Tensor>
                {
                    [QuerySideKey] = tensor(new long[] { _queries[members[0]].Side }, device: device),
                    [AnswersKey] = tensor(answers.ToArray(), new long[] { answers.Count / 2, 2 }, device: device),
                });
        }
    }

    /// <summary>The epoch's batches: each direction's queries shuffled and cut into batches, then the batches shuffled together.</summary>
    private int[][] Batches(int epoch)
    {
        var random = new Random(unchecked(Seed * 1_000_003 + epoch));
        var batches = new List<int[]>();
        foreach (var side in BothDirections ? new[] { 0, 1 } : new[] { 0 })
        {
            var order = Enumerable.Range(0, _queries.Length).Where(i => _queries[i].Side == side).ToArray();
            if (Shuffle)
            {
                random.Shuffle(order);
            }

            for (var start = 0; start < order.Length; start += BatchSize)
            {
                batches.Add(order[start..Math.Min(order.Length, start + BatchSize)]);
            }
        }

        var result = batches.ToArray();
        if (Shuffle)
        {
            random.Shuffle(result);
        }

        return result;
    }

    private sealed record Query(int Side, int Entity, int Relation, long[] Answers);
}
