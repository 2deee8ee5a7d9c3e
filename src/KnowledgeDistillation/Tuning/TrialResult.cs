namespace KnowledgeDistillation.Tuning;

/// <summary>One finished trial of a <see cref="HyperparameterSearch"/>: its configuration, score or error, and time.</summary>
public sealed class TrialResult
{
    internal TrialResult(TrialParameters parameters, TrialStatus status, double? score, TimeSpan duration, string? error, bool fromResultsFile)
    {
        Parameters = parameters;
        Status = status;
        Score = score;
        Duration = duration;
        Error = error;
        FromResultsFile = fromResultsFile;
    }

    /// <summary>The trial's index in the search.</summary>
    public int Index => Parameters.Index;

    /// <summary>The configuration the objective was given.</summary>
    public TrialParameters Parameters { get; }

    /// <summary>Whether the objective returned a finite score.</summary>
    public TrialStatus Status { get; }

    /// <summary>The score the objective returned; <c>null</c> when the trial failed.</summary>
    public double? Score { get; }

    /// <summary>How long the objective ran.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Why the trial failed (the exception's type and message, or the non-finite score); <c>null</c> when it completed.</summary>
    public string? Error { get; }

    /// <summary>Whether the trial was read from <see cref="HyperparameterSearchOptions.ResultsPath"/> instead of run by this call.</summary>
    public bool FromResultsFile { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"trial {Index} ({Parameters}): {(Status == TrialStatus.Completed ? ParameterValue.Format(Score!.Value) : "failed: " + Error)}";
}
