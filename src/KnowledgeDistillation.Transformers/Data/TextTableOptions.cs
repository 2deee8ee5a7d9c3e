namespace KnowledgeDistillation.Transformers.Data;

/// <summary>Layout of a sentence-classification table (TSV or CSV).</summary>
public sealed record TextTableOptions
{
    /// <summary>Column separator: <c>'\t'</c> (default, GLUE's TSV) or <c>','</c> (CSV with RFC 4180 quoting).</summary>
    public char Delimiter { get; init; } = '\t';

    /// <summary>Whether the first row names the columns.</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>The text column: a header name, or a 0-based index when there is no header (default <c>sentence</c> / 0).</summary>
    public string TextColumn { get; init; } = "sentence";

    /// <summary>The label column: a header name, or a 0-based index (default <c>label</c> / 1).</summary>
    public string LabelColumn { get; init; } = "label";

    /// <summary>
    /// The label names in class order; when null, labels that are all integers are used as class ids and other labels
    /// are numbered in ordinal order.
    /// </summary>
    public IReadOnlyList<string>? Labels { get; init; }
}
