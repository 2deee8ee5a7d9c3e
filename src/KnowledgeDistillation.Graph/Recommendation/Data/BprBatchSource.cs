using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// BPR triples of a split's training interactions: each epoch yields every training pair (u, i) once, in a shuffled order,
/// with one negative item j per pair drawn uniformly from the items that are not u's training positives (rejection
/// sampling, so a training positive is never a negative). Batches have <see cref="Batch.Inputs"/> = int64 [B, 3]
/// (user, positive, negative) and <see cref="Batch.Indices"/> = the pairs' indices. Order and negatives are a pure
/// function of (seed, epoch), built on the host inside the engine's dispose scope.
/// </summary>
public sealed class BprBatchSource : IBatchSource
{
    private readonly InteractionSplit _split;
    private readonly int[] _pairUsers;
    private readonly int[] _pairItems;

    /// <summary>Creates the source.</summary>
    /// <param name="split">The split whose training interactions are sampled.</param>
    /// <param name="batchSize">Triples per batch, &gt;= 1 (the paper: 1024).</param>
    /// <param name="seed">Seed of the order and the negatives.</param>
    /// <param name="shuffle">Whether each epoch is shuffled.</param>
    /// <exception cref="ArgumentException">A user has every item as a training positive (no negative exists).</exception>
    public BprBatchSource(InteractionSplit split, int batchSize = 1024, int seed = 0, bool shuffle = true)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        for (var u = 0; u < split.UserCount; u++)
        {
            if (split.TrainItems[u].Length >= split.ItemCount)
            {
                throw new ArgumentException($"User {u} has all {split.ItemCount} items as training positives; no negative can be sampled.", nameof(split));
            }
        }
        _split = split;
        _pairUsers = new int[split.TrainCount];
        _pairItems = new int[split.TrainCount];
        var k = 0;
        for (var u = 0; u < split.UserCount; u++)
        {
            foreach (var i in split.TrainItems[u])
            {
                _pairUsers[k] = u;
                _pairItems[k++] = i;
            }
        }
        BatchSize = batchSize;
        Seed = seed;
        Shuffle = shuffle;
    }

    /// <summary>Triples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <inheritdoc />
    public long SampleCount => _pairUsers.Length;

    /// <inheritdoc />
    public int BatchCount => (_pairUsers.Length + BatchSize - 1) / BatchSize;

    /// <inheritdoc />
    public int? ClassCount => null;

    /// <summary>The triples (user, positive, negative) of one epoch in batch order, on the host ([pairs, 3], row-major).</summary>
    /// <param name="epoch">The epoch.</param>
    /// <param name="indices">The training pairs' indices, in the same order.</param>
    public long[] Triples(int epoch, out long[] indices)
    {
        var random = new Random(unchecked(Seed * 1_000_003 + epoch));
        var order = Enumerable.Range(0, _pairUsers.Length).ToArray();
        if (Shuffle)
        {
            random.Shuffle(order);
        }
        var triples = new long[order.Length * 3];
        indices = new long[order.Length];
        for (var n = 0; n < order.Length; n++)
        {
            var p = order[n];
            var u = _pairUsers[p];
            var positives = _split.TrainItems[u];
            int j;
            do
            {
                j = random.Next(_split.ItemCount);
            }
            while (Array.BinarySearch(positives, j) >= 0);
            triples[3 * n] = u;
            triples[3 * n + 1] = _pairItems[p];
            triples[3 * n + 2] = j;
            indices[n] = p;
        }
        return triples;
    }

    /// <inheritdoc />
    public IEnumerable<Batch> GetBatches(int epoch, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var triples = Triples(epoch, out var indices);
        for (var b = 0; b < BatchCount; b++)
        {
            var start = b * BatchSize;
            var size = Math.Min(BatchSize, indices.Length - start);
            yield return new Batch(
                tensor(triples.AsSpan(3 * start, 3 * size).ToArray(), new long[] { size, 3 }, device: device),
                null,
                tensor(indices.AsSpan(start, size).ToArray(), device: device));
        }
    }
}
