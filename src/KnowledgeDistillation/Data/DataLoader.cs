using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Batches a <see cref="TensorDataset"/>, optionally shuffled. The shuffle order is a pure function of
/// the seed and the epoch (SplitMix64-driven Fisher-Yates on the host), identical on every platform and
/// device, so runs reproduce and resume exactly. Class-label targets are delivered as int64.
/// </summary>
public sealed class DataLoader : IShardableBatchSource
{
    private readonly TensorDataset _dataset;
    private readonly int _batchSize;
    private readonly bool _shuffle;
    private readonly ulong _seed;
    private readonly bool _dropLast;
    private readonly int _shardRank;
    private readonly int _shardCount = 1;

    /// <summary>Creates a loader.</summary>
    /// <param name="dataset">The dataset (not owned: dispose it yourself).</param>
    /// <param name="batchSize">Samples per batch, &gt;= 1.</param>
    /// <param name="shuffle">Whether to shuffle every epoch.</param>
    /// <param name="seed">Seed of the shuffle order.</param>
    /// <param name="dropLast">Whether to drop a final incomplete batch.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="dropLast"/> would leave no batch at all.</exception>
    public DataLoader(TensorDataset dataset, int batchSize, bool shuffle = true, int seed = 0, bool dropLast = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be >= 1.");
        }

        if (dropLast && dataset.Count < batchSize)
        {
            throw new ArgumentException(
                $"With dropLast, a dataset of {dataset.Count} samples and batch size {batchSize} yields no batch.", nameof(dropLast));
        }

        _dataset = dataset;
        _batchSize = batchSize;
        _shuffle = shuffle;
        _seed = unchecked((ulong)seed);
        _dropLast = dropLast;
    }

    private DataLoader(DataLoader source, int shardRank, int shardCount)
        : this(source._dataset, source._batchSize, source._shuffle, 0, source._dropLast)
    {
        _seed = source._seed;
        _shardRank = shardRank;
        _shardCount = shardCount;
    }

    /// <summary>This loader's rank among <see cref="ShardCount"/> (0 when not sharded).</summary>
    public int ShardRank => _shardRank;

    /// <summary>The number of parts each batch is split into (1 when not sharded).</summary>
    public int ShardCount => _shardCount;

    /// <inheritdoc />
    public long SampleCount
    {
        get
        {
            var total = _dropLast ? (long)BatchCount * _batchSize : _dataset.Count;
            if (_shardCount == 1)
            {
                return total;
            }

            long samples = 0;
            for (var b = 0; b < BatchCount; b++)
            {
                var length = (int)Math.Min(_batchSize, total - ((long)b * _batchSize));
                samples += Part(length).Length;
            }

            return samples;
        }
    }

    /// <inheritdoc />
    public int BatchCount => checked((int)(_dropLast ? _dataset.Count / _batchSize : (_dataset.Count + _batchSize - 1) / _batchSize));

    /// <inheritdoc />
    public int? ClassCount => _dataset.ClassCount;

    /// <inheritdoc />
    public IEnumerable<Batch> GetBatches(int epoch, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var order = Order(epoch);
        var batches = BatchCount;
        for (var b = 0; b < batches; b++)
        {
            var start = b * _batchSize;
            var length = (int)Math.Min(_batchSize, _dataset.Count - start);
            var (offset, part) = Part(length);
            yield return MakeBatch(order, start + offset, part, device);
        }
    }

    /// <inheritdoc />
    public IBatchSource Shard(int rank, int count)
    {
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The shard count must be >= 1.");
        }

        if (rank < 0 || rank >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must be in 0..{count - 1}.");
        }

        if (_shardCount != 1)
        {
            throw new InvalidOperationException("This loader is already a shard; shard the original loader.");
        }

        var smallest = (int)Math.Min(_batchSize, SampleCount - ((long)(BatchCount - 1) * _batchSize));
        if (smallest < count)
        {
            throw new ArgumentException(
                $"The last batch holds {smallest} sample(s), fewer than the {count} ranks, so some rank would get an empty batch. " +
                "Use dropLast: true, or a batch size and dataset size that leave every batch at least one sample per rank.", nameof(count));
        }

        return new DataLoader(this, rank, count);
    }

    /// <summary>This shard's offset and length within a batch of <paramref name="length"/> samples.</summary>
    private (int Offset, int Length) Part(int length)
    {
        var from = (int)((long)length * _shardRank / _shardCount);
        var to = (int)((long)length * (_shardRank + 1) / _shardCount);
        return (from, to - from);
    }

    /// <summary>The sample order of an epoch (exposed for tests and per-sample stores).</summary>
    /// <param name="epoch">The epoch, from 0.</param>
    public long[] Order(int epoch) => ShuffleOrder.Create(_dataset.Count, _shuffle, _seed, epoch);

    private Batch MakeBatch(long[] order, int start, int length, Device device)
    {
        var indices = tensor(new ReadOnlySpan<long>(order, start, length).ToArray(), dtype: ScalarType.Int64);
        var sourceIndices = indices.device == _dataset.Inputs.device ? indices : indices.to(_dataset.Inputs.device);
        var inputs = _dataset.Inputs.index_select(0, sourceIndices).to(device);
        Tensor? targets = null;
        if (_dataset.Targets is not null)
        {
            targets = _dataset.Targets.index_select(0, sourceIndices.to(_dataset.Targets.device));
            if (_dataset.ClassCount is not null && targets.dtype != ScalarType.Int64)
            {
                targets = targets.to(ScalarType.Int64);
            }

            targets = targets.to(device);
        }

        return new Batch(inputs, targets, indices.to(device));
    }
}
