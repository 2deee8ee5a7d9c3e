using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>Argument checks and the row normalisation the self-supervised and relational terms share.</summary>
internal static class EmbeddingChecks
{
    /// <summary>
    /// Checks that an embedding is a non-empty floating-point [B, ...] tensor with B &gt;= <paramref name="minimumBatch"/>
    /// and returns it flattened to [B, D].
    /// </summary>
    public static Tensor Flat(Tensor embedding, string what, long minimumBatch = 1)
    {
        ArgumentNullException.ThrowIfNull(embedding, what);
        Guard.FloatingPoint(embedding, what);
        if (embedding.dim() < 2 || embedding.numel() == 0)
        {
            throw new ArgumentException($"The {what} must be a non-empty [batch, ...] tensor; got {Guard.Shape(embedding)}.", what);
        }

        if (embedding.shape[0] < minimumBatch)
        {
            throw new ArgumentException($"The {what} {Guard.Shape(embedding)} has a batch of {embedding.shape[0]}, but this term needs at least {minimumBatch} samples.", what);
        }

        return embedding.reshape(embedding.shape[0], -1);
    }

    /// <summary>Checks that two flattened embeddings [B, D] have the same batch, width, dtype and device.</summary>
    public static void SamePair(Tensor a, string aWhat, Tensor b, string bWhat, string hint)
    {
        if (a.shape[0] != b.shape[0])
        {
            throw new ArgumentException($"Batch sizes differ: the {aWhat} has {a.shape[0]} rows, the {bWhat} {b.shape[0]}.", aWhat);
        }

        if (a.shape[1] != b.shape[1])
        {
            throw new ArgumentException(
                $"The {aWhat} has {a.shape[1]} values per sample but the {bWhat} has {b.shape[1]}: {hint}", aWhat);
        }

        if (a.dtype != b.dtype)
        {
            throw new ArgumentException($"The {aWhat} is {a.dtype} but the {bWhat} is {b.dtype}.", aWhat);
        }

        Guard.SameDevice(a, aWhat, b, bWhat);
    }

    /// <summary>Rows scaled to unit L2 norm, <c>x / max(‖x‖₂, 1e-12)</c> (PyTorch's <c>F.normalize</c>).</summary>
    public static Tensor Unit(Tensor x) => x / x.pow(2).sum(1, keepdim: true).sqrt().clamp_min(1e-12);

    /// <summary>The queue-size check every queue-backed term makes at construction.</summary>
    public static int QueueSize(int queueSize, long dataSize, string paramName)
    {
        if (dataSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dataSize), dataSize, "The training set's size N must be >= 1.");
        }

        if (queueSize < 1)
        {
            throw new ArgumentOutOfRangeException(paramName, queueSize, "The queue needs at least one entry.");
        }

        if (queueSize > dataSize)
        {
            throw new ArgumentOutOfRangeException(
                paramName, queueSize, $"The queue ({queueSize} entries) is larger than the dataset (N = {dataSize}): it would hold stale copies of the same samples as negatives; use at most N entries.");
        }

        return queueSize;
    }
}
