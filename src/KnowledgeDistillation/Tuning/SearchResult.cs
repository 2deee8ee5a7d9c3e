namespace KnowledgeDistillation.Tuning;

/// <summary>
/// The outcome of <see cref="HyperparameterSearch.Run(Func{TrialParameters, CancellationToken, double}, CancellationToken)"/>:
/// every trial (those read from the results file included), the best one, and the budget used.
/// </summary>
public sealed class SearchResult
{
    internal SearchResult(
        IReadOnlyList<TrialResult> trials,
        OptimizationDirection direction,
        SearchStrategy strategy,
        int seed,
        int plannedTrials,
        TimeSpan wallTime,
        bool stoppedByTimeBudget)
    {
        Trials = trials;
        Direction = direction;
        Strategy = strategy;
        Seed = seed;
        PlannedTrials = plannedTrials;
        WallTime = wallTime;
        StoppedByTimeBudget = stoppedByTimeBudget;
        Best = FindBest(trials, direction);
    }

    /// <summary>Every finished trial, by index: those run by this call and those read from the results file.</summary>
    public IReadOnlyList<TrialResult> Trials { get; }

    /// <summary>
    /// The completed trial with the best score for <see cref="Direction"/> (the lowest index among equal scores), or
    /// <c>null</c> when no trial completed.
    /// </summary>
    public TrialResult? Best { get; }

    /// <summary>The configuration of <see cref="Best"/>, or <c>null</c> when no trial completed.</summary>
    public TrialParameters? BestParameters => Best?.Parameters;

    /// <summary>The score of <see cref="Best"/>, or <c>null</c> when no trial completed.</summary>
    public double? BestScore => Best?.Score;

    /// <summary>Whether larger or smaller scores were better.</summary>
    public OptimizationDirection Direction { get; }

    /// <summary>The strategy that chose the configurations.</summary>
    public SearchStrategy Strategy { get; }

    /// <summary>The search's seed (<see cref="HyperparameterSearchOptions.Seed"/>).</summary>
    public int Seed { get; }

    /// <summary>The trials the search planned: <see cref="HyperparameterSearchOptions.MaxTrials"/>, or the grid's size (capped by it).</summary>
    public int PlannedTrials { get; }

    /// <summary>Trials the objective ran in this call.</summary>
    public int TrialsRun => Trials.Count(t => !t.FromResultsFile);

    /// <summary>Trials read from the results file (not run again).</summary>
    public int TrialsLoaded => Trials.Count(t => t.FromResultsFile);

    /// <summary>Trials whose objective returned a finite score.</summary>
    public int CompletedTrials => Trials.Count(t => t.Status == TrialStatus.Completed);

    /// <summary>Trials recorded as failed.</summary>
    public int FailedTrials => Trials.Count(t => t.Status == TrialStatus.Failed);

    /// <summary>Wall time of this call (reading the results file included; earlier calls' time not).</summary>
    public TimeSpan WallTime { get; }

    /// <summary>Whether <see cref="HyperparameterSearchOptions.TimeBudget"/> ran out before every planned trial had run.</summary>
    public bool StoppedByTimeBudget { get; }

    private static TrialResult? FindBest(IReadOnlyList<TrialResult> trials, OptimizationDirection direction)
    {
        TrialResult? best = null;
        foreach (var trial in trials)
        {
            if (trial.Score is not { } score)
            {
                continue;
            }

            var better = best is null || (direction == OptimizationDirection.Maximize ? score > best.Score!.Value : score < best.Score!.Value);
            if (better)
            {
                best = trial;
            }
        }

        return best;
    }
}
