using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Batches a <see cref="TensorDataset"/>, optionally shuffled. The shuffle order is a pure function of
/// the seed and the epoch (SplitMix64-driven Fisher-Yates on the host), identical on every platform and
/// device, so runs reproduce and resume exactly. Class-label targets are delivered as int64.
/// </summary>
public sealed class DataLoader : IBatchSource
{
    private readonly TensorDataset _dataset;
    private readonly int _batchSize;
    private readonly bool _shuffle;
    private readonly ulong _seed;
    private readonly bool _dropLast;

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

    /// <inheritdoc />
    public long SampleCount => _dropLast ? (long)BatchCount * _batchSize : _dataset.Count;

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
            yield return MakeBatch(order, start, length, device);
        }
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
