using KnowledgeDistillation.Data;
using KnowledgeDistillation.Metrics;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Accuracy on the nodes of one split mask, named <c>"{split}_accuracy"</c> (e.g. <c>"val_accuracy"</c> for mask <c>"val_mask"</c>).</summary>
public sealed class MaskedAccuracy : IMetric
{
    private readonly string maskKey;
    private Tensor? correct;
    private long count;

    /// <summary>Creates the metric for split <paramref name="split"/> ("train", "val" or "test"); it reads the extras mask <c>"{split}_mask"</c>.</summary>
    public MaskedAccuracy(string split)
    {
        if (string.IsNullOrWhiteSpace(split))
        {
            throw new ArgumentException("A split name (\"train\", \"val\", \"test\") is required.", nameof(split));
        }

        maskKey = split + "_mask";
        Name = split + "_accuracy";
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    public void Update(ModelOutput output, Batch batch)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(batch);
        if (output.Logits is not { } logits || batch.Targets is not { } targets || !batch.Extras.TryGetValue(maskKey, out var mask))
        {
            return;
        }

        GraphLossChecks.NodeMask(mask, logits, maskKey);
        using var scope = NewDisposeScope();
        var hits = logits.argmax(1).eq(targets).logical_and(mask).sum();
        count += mask.sum().item<long>();
        if (correct is null)
        {
            correct = zeros(1, ScalarType.Int64, hits.device).DetachFromDisposeScope();
        }

        correct.add_(hits);
    }

    /// <inheritdoc />
    public double Compute() => count == 0 || correct is null ? double.NaN : (double)correct.item<long>() / count;

    /// <inheritdoc />
    public void Reset()
    {
        correct?.Dispose();
        correct = null;
        count = 0;
    }

    /// <inheritdoc />
    public void Dispose() => Reset();
}
