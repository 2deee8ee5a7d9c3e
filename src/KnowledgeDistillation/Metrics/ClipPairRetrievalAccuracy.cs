using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Metrics;

/// <summary>
/// The clip-level contrastive pretext task's accuracy: the fraction of clips whose most similar other clip of the batch (cosine)
/// is the other clip of its pair (<see cref="ClipContrastiveLoss.PairRetrievalAccuracy"/>; chance <c>1 / (2B − 1)</c>). It reads
/// the participant's "logits" <c>[2B, D]</c> in the <see cref="Models.ClipPairEncoder"/> layout, not labels. Use it in place of
/// <see cref="Accuracy"/> (which would compare 2B rows with B labels) when pre-training:
/// <c>distiller.Metrics.Clear(); distiller.Metrics.Add(() =&gt; new ClipPairRetrievalAccuracy());</c>. Batches without logits or with
/// fewer than two pairs are skipped.
/// </summary>
public sealed class ClipPairRetrievalAccuracy : IMetric
{
    private Tensor? _hits;
    private long _count;

    /// <inheritdoc />
    public string Name => "pair_retrieval_accuracy";

    /// <inheritdoc />
    public bool HigherIsBetter => true;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Logits that are not <c>[2B, D]</c> with an even row count.</exception>
    public void Update(ModelOutput output, Batch batch)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(batch);
        if (output.Logits is not { } embeddings || embeddings.dim() == 2 && embeddings.shape[0] < 4)
        {
            return;
        }

        using var scope = NewDisposeScope();
        var (first, second) = ClipContrastiveLoss.Split(embeddings, "logits");
        var hits = ClipContrastiveLoss.PairRetrievalAccuracy(first, second) * embeddings.shape[0];
        if (_hits is null)
        {
            _hits = zeros(1, ScalarType.Float64, hits.device).DetachFromDisposeScope();
        }

        _hits.add_(hits);
        _count += embeddings.shape[0];
    }

    /// <inheritdoc />
    public double Compute() => _count == 0 || _hits is null ? double.NaN : _hits.item<double>() / _count;

    /// <inheritdoc />
    public void Reset()
    {
        _hits?.Dispose();
        _hits = null;
        _count = 0;
    }

    /// <inheritdoc />
    public void Dispose() => Reset();
}
