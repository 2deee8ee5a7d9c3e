namespace KnowledgeDistillation.Tuning;

/// <summary>Settings of a <see cref="HyperparameterSearch"/> (bindable from configuration; <see cref="Validate"/> names any bad key).</summary>
public sealed class HyperparameterSearchOptions
{
    /// <summary>Whether larger scores are better (default, validation accuracy) or smaller ones (a validation loss).</summary>
    public OptimizationDirection Direction { get; set; } = OptimizationDirection.Maximize;

    /// <summary>How configurations are chosen (default <see cref="SearchStrategy.Random"/>, which needs <see cref="MaxTrials"/>).</summary>
    public SearchStrategy Strategy { get; set; } = SearchStrategy.Random;

    /// <summary>
    /// Random search: the number of configurations to draw (required, &gt;= 1). Grid search: run at most the first this
    /// many grid points (<c>null</c>: the whole grid). A resumed search may raise it to run more trials.
    /// </summary>
    public int? MaxTrials { get; set; }

    /// <summary>The seed of the random draws and of every trial's <see cref="TrialParameters.Seed"/> (default 0).</summary>
    public int Seed { get; set; }

    /// <summary>
    /// Stop starting new trials once this much wall time has passed since the call started (a running trial finishes);
    /// <c>null</c>: no limit. &gt; 0 when set.
    /// </summary>
    public TimeSpan? TimeBudget { get; set; }

    /// <summary>
    /// A JSON Lines file that records the search (a header line, then one line per finished trial, each flushed to disk
    /// when the trial ends); running the same search again with the same file skips the trials it records. <c>null</c>:
    /// nothing is written and nothing resumed.
    /// </summary>
    public string? ResultsPath { get; set; }

    /// <summary>
    /// Whether an exception thrown by the objective stops the search (after the trial is recorded as failed) instead of being
    /// recorded and the search continuing (default false).
    /// </summary>
    public bool StopOnError { get; set; }

    /// <summary>
    /// Whether a resumed search runs the trials the results file records as failed again (default false: a recorded failure
    /// is a result). The new outcome is appended and supersedes the old line.
    /// </summary>
    public bool RetryFailed { get; set; }

    /// <summary>Checks every value; throws an exception whose parameter name is the offending key.</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Direction))
        {
            throw new ArgumentOutOfRangeException(nameof(Direction), Direction, "Unknown direction (Maximize or Minimize).");
        }

        if (!Enum.IsDefined(Strategy))
        {
            throw new ArgumentOutOfRangeException(nameof(Strategy), Strategy, "Unknown strategy (Random or Grid).");
        }

        if (MaxTrials is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxTrials), MaxTrials, "MaxTrials must be >= 1 (or null for the whole grid).");
        }

        if (Strategy == SearchStrategy.Random && MaxTrials is null)
        {
            throw new ArgumentException("Random search needs MaxTrials (the number of configurations to draw).", nameof(MaxTrials));
        }

        if (TimeBudget is { } budget && budget <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(TimeBudget), budget, "TimeBudget must be > 0 (or null for no limit).");
        }

        if (ResultsPath is not null && string.IsNullOrWhiteSpace(ResultsPath))
        {
            throw new ArgumentException("ResultsPath must be a file path (or null to keep no results file).", nameof(ResultsPath));
        }
    }
}
