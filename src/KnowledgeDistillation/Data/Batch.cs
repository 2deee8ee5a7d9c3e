using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>One mini-batch: inputs, optional targets, the sample indices it was drawn from, and named extras.</summary>
public sealed class Batch
{
    private static readonly IReadOnlyDictionary<string, Tensor> NoExtras = new Dictionary<string, Tensor>();

    /// <summary>Creates a batch.</summary>
    /// <param name="inputs">Model inputs; the first dimension is the batch.</param>
    /// <param name="targets">Class labels (int64, [batch]) or other targets; <c>null</c> for unlabeled data.</param>
    /// <param name="indices">Sample indices into the source dataset (int64, [batch]); per-sample stores key on them.</param>
    /// <param name="extras">Anything else a model or loss needs (masks, adjacency, negative samples).</param>
    /// <exception cref="ArgumentException">The inputs have no batch dimension, or targets/indices disagree with it.</exception>
    public Batch(Tensor inputs, Tensor? targets, Tensor indices, IReadOnlyDictionary<string, Tensor>? extras = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(indices);
        if (inputs.dim() == 0)
        {
            throw new ArgumentException("Batch inputs must have a leading batch dimension; got a scalar.", nameof(inputs));
        }

        var size = inputs.shape[0];
        if (targets is not null && (targets.dim() == 0 || targets.shape[0] != size))
        {
            throw new ArgumentException(
                $"Batch targets must have {size} rows to match the inputs; got shape {Guard.Shape(targets)}.",
                nameof(targets));
        }

        if (indices.dim() != 1 || indices.shape[0] != size)
        {
            throw new ArgumentException(
                $"Batch indices must have shape [{size}]; got {Guard.Shape(indices)}.", nameof(indices));
        }

        Inputs = inputs;
        Targets = targets;
        Indices = indices;
        Extras = extras ?? NoExtras;
    }

    /// <summary>Model inputs; the first dimension is the batch.</summary>
    public Tensor Inputs { get; }

    /// <summary>Targets (class labels for classification), or <c>null</c>.</summary>
    public Tensor? Targets { get; }

    /// <summary>The indices of the batch's samples in the source dataset (int64).</summary>
    public Tensor Indices { get; }

    /// <summary>Named extra tensors.</summary>
    public IReadOnlyDictionary<string, Tensor> Extras { get; }

    /// <summary>The number of samples in the batch.</summary>
    public long Size => Inputs.shape[0];

    /// <summary>Returns the class-label targets, or throws when the batch has none.</summary>
    /// <exception cref="InvalidOperationException">The batch has no targets.</exception>
    public Tensor RequireTargets() =>
        Targets ?? throw new InvalidOperationException("This loss needs class labels, but the batch has no targets.");
}
