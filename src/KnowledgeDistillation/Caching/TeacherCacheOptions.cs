namespace KnowledgeDistillation.Caching;

/// <summary>Where a <see cref="CachedTeacher"/> keeps the outputs it has computed.</summary>
public enum TeacherCacheStorage
{
    /// <summary>Tensors on the teacher's device (fastest; limited by device memory).</summary>
    Memory,

    /// <summary>A memory-mapped file, so a cache larger than RAM works and outlives the process.</summary>
    Disk,
}

/// <summary>Settings of a <see cref="CachedTeacher"/>.</summary>
public sealed class TeacherCacheOptions
{
    /// <summary>Memory (default) or a memory-mapped file.</summary>
    public TeacherCacheStorage Storage { get; set; } = TeacherCacheStorage.Memory;

    /// <summary>The cache file for <see cref="TeacherCacheStorage.Disk"/>. An existing file is reused only when it was made by the same teacher for the same data.</summary>
    public string? FilePath { get; set; }

    /// <summary>
    /// Compare a fingerprint of each sample's input with the one stored with its cached output (default true),
    /// so a different dataset or a random augmentation is detected instead of silently served stale outputs.
    /// Costs one small projection per batch and, on CUDA, one device read.
    /// </summary>
    public bool VerifyInputs { get; set; } = true;

    /// <summary>
    /// Serve cached outputs even when a sample's input changed since it was cached (random augmentation),
    /// knowingly distilling from the teacher's output on the un-augmented (first-seen) input. Default false: refuse.
    /// </summary>
    public bool AllowChangedInputs { get; set; }
}
