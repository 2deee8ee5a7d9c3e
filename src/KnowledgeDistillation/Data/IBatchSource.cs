using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>A source of mini-batches for training or evaluation.</summary>
public interface IBatchSource
{
    /// <summary>The number of samples in one pass.</summary>
    long SampleCount { get; }

    /// <summary>The number of batches in one epoch.</summary>
    int BatchCount { get; }

    /// <summary>The number of classes (largest label + 1) when targets are class labels; otherwise <c>null</c>.</summary>
    int? ClassCount { get; }

    /// <summary>
    /// Yields the batches of one epoch on <paramref name="device"/>. The order depends only on the
    /// source's seed and <paramref name="epoch"/>, so a run is reproducible and can resume mid-training.
    /// Each batch's tensors are created lazily when the enumerator advances, so a caller that advances
    /// inside a dispose scope owns them.
    /// </summary>
    /// <param name="epoch">The epoch number, from 0 (selects the shuffle order).</param>
    /// <param name="device">The device the batch tensors must be on.</param>
    IEnumerable<Batch> GetBatches(int epoch, Device device);
}
