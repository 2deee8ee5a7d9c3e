namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// Settings of <see cref="InteractionReader"/>: which columns of a delimited file with a header hold the user, the item,
/// the rating and the timestamp, and which interactions count as positive (implicit feedback).
/// </summary>
public sealed class InteractionReaderOptions
{
    /// <summary>Header name of the user column (default "userId", as in MovieLens).</summary>
    public string UserColumn { get; set; } = "userId";

    /// <summary>Header name of the item column (default "movieId").</summary>
    public string ItemColumn { get; set; } = "movieId";

    /// <summary>Header name of the rating column, or <c>null</c> when the file has none (then every row is positive).</summary>
    public string? RatingColumn { get; set; } = "rating";

    /// <summary>Header name of the timestamp column, or <c>null</c> when the file has none (timestamps are then the row numbers).</summary>
    public string? TimestampColumn { get; set; } = "timestamp";

    /// <summary>
    /// A row is positive when its rating is &gt;= this value; <c>null</c> = "any interaction" (every row is positive).
    /// Requires <see cref="RatingColumn"/> when set.
    /// </summary>
    public double? PositiveThreshold { get; set; }

    /// <summary>The field separator (default ',').</summary>
    public char Separator { get; set; } = ',';
}
