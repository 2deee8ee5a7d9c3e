namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Options of <see cref="NpzGraphReader"/>.</summary>
public sealed class NpzGraphReaderOptions
{
    /// <summary>The defaults: non-finite values are rejected.</summary>
    public static NpzGraphReaderOptions Default { get; } = new();

    /// <summary>
    /// Whether a NaN or infinite value in <c>adj_data</c> or <c>attr_data</c> (including a float64 value beyond the float32
    /// range) makes the file invalid; default <c>true</c>. The error names the array, the entry, its row and its column.
    /// Set to <c>false</c> to read such values as they are.
    /// </summary>
    public bool RejectNonFiniteValues { get; init; } = true;
}
