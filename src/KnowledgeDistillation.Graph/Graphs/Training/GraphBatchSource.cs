using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// Full-graph training data for the core engine: every epoch yields ONE batch holding all nodes
/// (<c>Inputs</c> = node features [N, d], <c>Targets</c> = labels [N], <c>Indices</c> = 0..N-1) and the split as
/// boolean masks in <c>Extras</c>: <c>"train_mask"</c>, <c>"val_mask"</c>, <c>"test_mask"</c>. The graph structure
/// lives in the models (<see cref="GraphPropagation"/>).
/// </summary>
public sealed class GraphBatchSource : IBatchSource, IDisposable
{
    /// <summary>Extras key of the training-node mask.</summary>
    public const string TrainMask = "train_mask";

    /// <summary>Extras key of the validation-node mask.</summary>
    public const string ValidationMask = "val_mask";

    /// <summary>Extras key of the test-node mask.</summary>
    public const string TestMask = "test_mask";

    private readonly Tensor features;
    private readonly Tensor labels;
    private readonly Tensor indices;
    private readonly Dictionary<string, Tensor> masks;

    /// <summary>Creates the source from a dataset and a split (features densified once, on the CPU).</summary>
    public GraphBatchSource(GraphDataset graph, GraphSplit split)
        : this(graph?.FeatureTensor() ?? throw new ArgumentNullException(nameof(graph)), graph.LabelTensor(), split, graph.ClassCount)
    {
    }

    /// <summary>Creates the source from feature [N, d] and label [N] tensors (the source takes ownership) and a split.</summary>
    public GraphBatchSource(Tensor features, Tensor labels, GraphSplit split, int classCount)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(split);
        if (features.dim() != 2)
        {
            throw new ArgumentException($"Features must have shape [nodes, features]; got {Guard.Shape(features)}.", nameof(features));
        }

        if (labels.dim() != 1 || labels.shape[0] != features.shape[0] || labels.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"Labels must be int64 of shape [{features.shape[0]}]; got {labels.dtype} {Guard.Shape(labels)}.", nameof(labels));
        }

        if (split.NodeCount != features.shape[0])
        {
            throw new ArgumentException($"The split is for {split.NodeCount} nodes but the features have {features.shape[0]} rows.", nameof(split));
        }

        if (split.Train.Length == 0)
        {
            throw new ArgumentException("The split has no training nodes.", nameof(split));
        }

        this.features = features.DetachFromDisposeScope();
        this.labels = labels.DetachFromDisposeScope();
        indices = arange(features.shape[0], dtype: ScalarType.Int64).DetachFromDisposeScope();
        Split = split;
        ClassCount = classCount;
        masks = new Dictionary<string, Tensor>
        {
            [TrainMask] = split.Mask(split.Train).DetachFromDisposeScope(),
            [ValidationMask] = split.Mask(split.Validation).DetachFromDisposeScope(),
            [TestMask] = split.Mask(split.Test).DetachFromDisposeScope(),
        };
    }

    /// <summary>The split the masks describe.</summary>
    public GraphSplit Split { get; }

    /// <summary>Node features [N, d] (CPU).</summary>
    public Tensor Features => features;

    /// <summary>Labels [N] (CPU).</summary>
    public Tensor Labels => labels;

    /// <inheritdoc />
    public long SampleCount => features.shape[0];

    /// <inheritdoc />
    public int BatchCount => 1;

    /// <inheritdoc />
    public int? ClassCount { get; }

    /// <summary>The boolean mask [N] stored under <paramref name="key"/> (e.g. <see cref="TrainMask"/>).</summary>
    public Tensor Mask(string key) =>
        masks.TryGetValue(key, out var mask) ? mask : throw new KeyNotFoundException($"No mask '{key}'. Masks: {string.Join(", ", masks.Keys)}.");

    /// <inheritdoc />
    public IEnumerable<Batch> GetBatches(int epoch, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        yield return new Batch(
            Move(features, device),
            Move(labels, device),
            Move(indices, device),
            masks.ToDictionary(m => m.Key, m => Move(m.Value, device)));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        features.Dispose();
        labels.Dispose();
        indices.Dispose();
        foreach (var mask in masks.Values)
        {
            mask.Dispose();
        }
    }

    // A new handle (alias) on the same device, so the step's dispose scope never frees the source's own tensors and
    // models that cache work per input storage (SGC, GLP) recognise the features.
    private static Tensor Move(Tensor t, Device device) =>
        t.device_type == device.type && t.device_index == device.index ? t.alias() : t.to(device);
}
