namespace KnowledgeDistillation.Runtime;

/// <summary>The result of <see cref="NativeAllocatorTuning.Apply"/>.</summary>
/// <param name="Applied">Whether the allocator's thresholds were changed in this process.</param>
/// <param name="MmapThresholdBytes">The mmap threshold set, when applied.</param>
/// <param name="TrimThresholdBytes">The trim threshold set, when applied.</param>
/// <param name="Detail">One sentence for logs: what was done, or why nothing was.</param>
public sealed record NativeAllocatorTuningResult(bool Applied, long? MmapThresholdBytes, long? TrimThresholdBytes, string Detail);
