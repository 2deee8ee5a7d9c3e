namespace KnowledgeDistillation.Data;

/// <summary>
/// A step applied to each sample on the host before batching (augmentation, normalisation). Transforms run on the
/// pipeline's worker threads, so an implementation must be thread-safe (keep no per-call state in fields).
/// </summary>
public interface ISampleTransform
{
    /// <summary>
    /// Whether the transform draws random numbers. A pipeline with a random transform gives different inputs every
    /// epoch, which a cached teacher (<see cref="Caching.CachedTeacher"/>) refuses: such runs run the teacher every step.
    /// </summary>
    bool IsRandom { get; }

    /// <summary>Transforms one sample.</summary>
    /// <param name="sample">The sample; owned by the pipeline, so it may be changed in place and returned.</param>
    /// <param name="random">The sample's random stream for this epoch (see <see cref="SampleRandom.For"/>); draw only from it.</param>
    /// <returns>The transformed sample.</returns>
    /// <exception cref="ArgumentException">The sample's shape does not suit the transform (the message names the expected shape).</exception>
    DataSample Apply(DataSample sample, SampleRandom random);
}
