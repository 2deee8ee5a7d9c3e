using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Batches an <see cref="IDataset"/> for training or evaluation, for data that need not fit in memory: samples are
/// read by index, transformed on the host (<see cref="DataPipelineOptions.Transforms"/>) and collated into tensors,
/// by default on a background worker thread a bounded number of batches ahead of training.
/// </summary>
/// <remarks>
/// <para>
/// Determinism: the sample order of an epoch is a pure function of (seed, epoch) (the same SplitMix64 Fisher-Yates as
/// <see cref="DataLoader"/>), and each sample's random transforms draw from <see cref="SampleRandom.For"/>(seed, epoch,
/// sample index). Batches are delivered in order whatever the number of workers, so a run is reproducible and
/// <see cref="Engine.Distiller.Resume"/> continues an augmented run bit for bit.
/// </para>
/// <para>
/// Prefetch: with <see cref="DataPipelineOptions.Workers"/> &gt; 0, worker threads build at most
/// <see cref="DataPipelineOptions.PrefetchBatches"/> batches ahead. An exception from a worker (a corrupt file) is
/// rethrown on the training thread when it reaches that batch; disposing the enumerator (the engine does so when an
/// epoch ends, is cancelled or fails) stops the workers and disposes the batches never taken. The tensors of a batch
/// join the dispose scope that is current on the training thread when it advances the enumerator.
/// </para>
/// </remarks>
public sealed class DataPipeline : IShardableBatchSource
{
    private readonly IDataset _dataset;
    private readonly DataPipelineOptions _options;
    private readonly ISampleTransform[] _transforms;
    private readonly ILogger? _logger;
    private readonly int _shardRank;
    private readonly int _shardCount = 1;

    /// <summary>Creates a pipeline.</summary>
    /// <param name="dataset">The samples (not owned).</param>
    /// <param name="options">Batching, order, transforms and prefetch; <c>null</c> uses the defaults. Read once here.</param>
    /// <param name="logger">Receives a debug line per epoch with the time the training thread waited for data; <c>null</c> logs nothing.</param>
    /// <exception cref="ArgumentException">An option is invalid, or <c>DropLast</c> would leave no batch.</exception>
    public DataPipeline(IDataset dataset, DataPipelineOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new DataPipelineOptions();
        options.Validate();
        if (dataset.Count < 1)
        {
            throw new ArgumentException("The dataset is empty.", nameof(dataset));
        }

        if (options.DropLast && dataset.Count < options.BatchSize)
        {
            throw new ArgumentException(
                $"With DropLast, a dataset of {dataset.Count} samples and batch size {options.BatchSize} yields no batch.", nameof(options));
        }

        _dataset = dataset;
        _options = new DataPipelineOptions
        {
            BatchSize = options.BatchSize,
            Shuffle = options.Shuffle,
            Seed = options.Seed,
            DropLast = options.DropLast,
            Workers = options.Workers,
            PrefetchBatches = options.PrefetchBatches,
        };
        _transforms = options.Transforms.ToArray();
        _logger = logger;
    }

    private DataPipeline(DataPipeline source, int shardRank, int shardCount)
    {
        _dataset = source._dataset;
        _options = source._options;
        _transforms = source._transforms;
        _logger = source._logger;
        _shardRank = shardRank;
        _shardCount = shardCount;
    }

    /// <summary>The dataset.</summary>
    public IDataset Dataset => _dataset;

    /// <summary>Samples per batch.</summary>
    public int BatchSize => _options.BatchSize;

    /// <summary>Worker threads (0: batches are built on the training thread).</summary>
    public int Workers => _options.Workers;

    /// <summary>The most batches built ahead of training.</summary>
    public int PrefetchBatches => _options.PrefetchBatches;

    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<ISampleTransform> Transforms => _transforms;

    /// <summary>
    /// Whether a transform is random, so inputs change every epoch. A cached teacher cannot be used with such a
    /// pipeline (<see cref="Engine.Distiller.Fit"/> refuses the combination); the teacher runs every step instead.
    /// </summary>
    public bool HasRandomTransforms => _transforms.Any(t => t.IsRandom);

    /// <inheritdoc />
    public long SampleCount
    {
        get
        {
            var total = _options.DropLast ? (long)BatchCount * _options.BatchSize : _dataset.Count;
            if (_shardCount == 1)
            {
                return total;
            }

            long samples = 0;
            for (var b = 0; b < BatchCount; b++)
            {
                samples += Part((int)Math.Min(_options.BatchSize, total - ((long)b * _options.BatchSize))).Length;
            }

            return samples;
        }
    }

    /// <summary>This pipeline's rank among <see cref="ShardCount"/> (0 when not sharded).</summary>
    public int ShardRank => _shardRank;

    /// <summary>The number of parts each batch is split into (1 when not sharded).</summary>
    public int ShardCount => _shardCount;

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
            throw new InvalidOperationException("This pipeline is already a shard; shard the original pipeline.");
        }

        var smallest = (int)Math.Min(_options.BatchSize, SampleCount - ((long)(BatchCount - 1) * _options.BatchSize));
        if (smallest < count)
        {
            throw new ArgumentException(
                $"The last batch holds {smallest} sample(s), fewer than the {count} ranks, so some rank would get an empty batch. " +
                "Use DropLast, or a batch size and dataset size that leave every batch at least one sample per rank.", nameof(count));
        }

        return new DataPipeline(this, rank, count);
    }

    /// <summary>This shard's offset and length within a batch of <paramref name="length"/> samples.</summary>
    private (int Offset, int Length) Part(int length)
    {
        var from = (int)((long)length * _shardRank / _shardCount);
        var to = (int)((long)length * (_shardRank + 1) / _shardCount);
        return (from, to - from);
    }

    /// <inheritdoc />
    public int BatchCount => checked((int)(_options.DropLast ? _dataset.Count / _options.BatchSize : (_dataset.Count + _options.BatchSize - 1) / _options.BatchSize));

    /// <inheritdoc />
    public int? ClassCount => _dataset.ClassCount;

    /// <summary>The sample order of an epoch.</summary>
    /// <param name="epoch">The epoch, from 0.</param>
    public long[] Order(int epoch) => ShuffleOrder.Create(_dataset.Count, _options.Shuffle, unchecked((ulong)_options.Seed), epoch);

    /// <inheritdoc />
    public IEnumerable<Batch> GetBatches(int epoch, Device device) => GetBatches(epoch, device, CancellationToken.None);

    /// <summary>Yields the batches of one epoch on <paramref name="device"/>, stopping the workers when <paramref name="ct"/> is cancelled.</summary>
    /// <param name="epoch">The epoch, from 0 (selects the order and the random transforms).</param>
    /// <param name="device">The device the batch tensors must be on.</param>
    /// <param name="ct">Stops the workers; the next advance throws <see cref="OperationCanceledException"/>.</param>
    public IEnumerable<Batch> GetBatches(int epoch, Device device, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (epoch < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, "The epoch must be >= 0.");
        }

        return new EpochBatches(this, epoch, device, ct);
    }

    /// <summary>Reads, transforms and collates batch <paramref name="batch"/> of an epoch into CPU tensors (any thread).</summary>
    internal HostBatch Build(long[] order, int epoch, int batch, CancellationToken ct)
    {
        var start = (long)batch * _options.BatchSize;
        var (offset, length) = Part((int)Math.Min(_options.BatchSize, order.LongLength - start));
        start += offset;
        var indices = new long[length];
        long[]? labels = null;
        float[]? values = null;
        int[]? shape = null;
        for (var i = 0; i < length; i++)
        {
            ct.ThrowIfCancellationRequested();
            var index = order[start + i];
            indices[i] = index;
            var sample = _dataset.Get(index) ?? throw new InvalidOperationException($"The dataset returned null for sample {index}.");
            var random = SampleRandom.For(_options.Seed, epoch, index);
            foreach (var transform in _transforms)
            {
                sample = transform.Apply(sample, random) ?? throw new InvalidOperationException($"Transform {transform.GetType().Name} returned null for sample {index}.");
            }

            if (shape is null)
            {
                shape = sample.Shape;
                values = new float[checked(length * sample.Values.Length)];
                labels = sample.Label.HasValue ? new long[length] : null;
            }
            else if (!shape.AsSpan().SequenceEqual(sample.Shape))
            {
                throw new InvalidDataException(
                    $"Sample {index} has shape {DataShape.Format(sample.Shape)} after the transforms, but sample {indices[0]} of the same batch has " +
                    $"{DataShape.Format(shape)}; every sample of a batch must have the same shape (resize images to one size, or crop them).");
            }

            if (sample.Label.HasValue != (labels is not null))
            {
                throw new InvalidDataException(
                    $"Sample {index} {(sample.Label.HasValue ? "has" : "has no")} label, but sample {indices[0]} of the same batch " +
                    $"{(labels is not null ? "has" : "has no")} label; either every sample has a label or none does.");
            }

            if (labels is not null)
            {
                var label = sample.Label!.Value;
                if (_dataset.ClassCount is { } classes && label >= classes)
                {
                    throw new InvalidDataException($"Sample {index} has label {label}, outside the dataset's classes 0..{classes - 1}.");
                }

                labels[i] = label;
            }

            sample.Values.CopyTo(values!, (long)i * sample.Values.Length);
        }

        var dims = new long[shape!.Length + 1];
        dims[0] = length;
        for (var d = 0; d < shape.Length; d++)
        {
            dims[d + 1] = shape[d];
        }

        Tensor? inputs = null;
        Tensor? targets = null;
        try
        {
            // torch.tensor wraps the managed array, whose address (and so its alignment) depends on the thread and
            // the garbage collector; BLAS kernels round differently for different alignments. A copy into libtorch's
            // own 64-byte-aligned storage makes results independent of where and when the batch was built.
            using (var wrapped = tensor(values!, dims))
            {
                inputs = wrapped.clone();
            }
            targets = labels is null ? null : tensor(labels, dtype: ScalarType.Int64);
            return new HostBatch(inputs, targets, tensor(indices, dtype: ScalarType.Int64));
        }
        catch
        {
            inputs?.Dispose();
            targets?.Dispose();
            throw;
        }
    }

    /// <summary>Logs how long the training thread waited for data in an epoch.</summary>
    internal void LogWait(int epoch, int batches, TimeSpan waited)
    {
        if (_logger is not null && _logger.IsEnabled(LogLevel.Debug))
        {
            _logger.LogDebug("Data epoch {Epoch}: {Batches} batches, training thread waited {WaitMs:F1} ms for data", epoch, batches, waited.TotalMilliseconds);
        }
    }

    private sealed class EpochBatches(DataPipeline pipeline, int epoch, Device device, CancellationToken ct) : IEnumerable<Batch>
    {
        public IEnumerator<Batch> GetEnumerator() =>
            pipeline._options.Workers == 0
                ? new SynchronousBatchEnumerator(pipeline, epoch, device, ct)
                : new PrefetchingBatchEnumerator(pipeline, epoch, device, ct);

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
