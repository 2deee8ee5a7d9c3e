namespace KnowledgeDistillation.Data;

/// <summary>How a <see cref="DataPipeline"/> batches, orders, transforms and prefetches samples.</summary>
public sealed class DataPipelineOptions
{
    /// <summary>Samples per batch, &gt;= 1 (default 128).</summary>
    public int BatchSize { get; set; } = 128;

    /// <summary>Whether to shuffle every epoch (default true); the order is a pure function of (<see cref="Seed"/>, epoch).</summary>
    public bool Shuffle { get; set; } = true;

    /// <summary>Seed of the shuffle order and of the random transforms (default 0).</summary>
    public int Seed { get; set; }

    /// <summary>Whether to drop a final incomplete batch (default false).</summary>
    public bool DropLast { get; set; }

    /// <summary>
    /// The transforms applied to every sample, in order (augmentation, normalisation); empty by default. Random
    /// transforms draw from <see cref="SampleRandom.For"/>(seed, epoch, sample index), so the same sample is
    /// augmented the same way in an uninterrupted and in a resumed run.
    /// </summary>
    public IList<ISampleTransform> Transforms { get; } = new List<ISampleTransform>();

    /// <summary>
    /// Worker threads that read, transform and batch ahead of training, &gt;= 0 (default 1). With 0, batches are
    /// built on the training thread when it asks for them.
    /// </summary>
    public int Workers { get; set; } = 1;

    /// <summary>
    /// The most batches built (or being built) ahead of the one training uses, &gt;= 1 (default 2). Bounds the
    /// pipeline's memory: about <c>PrefetchBatches</c> batches of host tensors beside the one in use.
    /// </summary>
    public int PrefetchBatches { get; set; } = 2;

    /// <summary>Checks every value; throws an exception whose parameter name is the offending property.</summary>
    /// <exception cref="ArgumentException">A value is out of range or a transform is <c>null</c>.</exception>
    public void Validate()
    {
        if (BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"{nameof(BatchSize)} must be >= 1.");
        }

        if (Workers < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Workers), Workers, $"{nameof(Workers)} must be >= 0 (0 builds batches on the training thread).");
        }

        if (PrefetchBatches < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(PrefetchBatches), PrefetchBatches, $"{nameof(PrefetchBatches)} must be >= 1.");
        }

        for (var i = 0; i < Transforms.Count; i++)
        {
            if (Transforms[i] is null)
            {
                throw new ArgumentException($"{nameof(Transforms)}[{i}] is null.", nameof(Transforms));
            }
        }
    }
}
