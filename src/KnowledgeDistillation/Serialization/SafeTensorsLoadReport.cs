namespace KnowledgeDistillation.Serialization;

/// <summary>What <see cref="SafeTensors.LoadInto"/> did: which state entries were loaded, and which names did not match.</summary>
public sealed class SafeTensorsLoadReport
{
    internal SafeTensorsLoadReport(
        IReadOnlyList<string> loaded, IReadOnlyList<string> converted, IReadOnlyList<string> skipped,
        IReadOnlyList<string> missing, IReadOnlyList<string> unexpected)
    {
        Loaded = loaded;
        Converted = converted;
        Skipped = skipped;
        Missing = missing;
        Unexpected = unexpected;
    }

    /// <summary>Module state entries (parameters and buffers, by module name) that received a tensor from the file.</summary>
    public IReadOnlyList<string> Loaded { get; }

    /// <summary>The subset of <see cref="Loaded"/> whose floating-point dtype was converted (only with <c>allowDTypeConversion</c>).</summary>
    public IReadOnlyList<string> Converted { get; }

    /// <summary>File tensors that the name map mapped to null, by file name.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>Module state entries that no file tensor mapped to (an error in strict mode).</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>File tensors (by file name) whose mapped name is not a module state entry (an error in strict mode).</summary>
    public IReadOnlyList<string> Unexpected { get; }
}
