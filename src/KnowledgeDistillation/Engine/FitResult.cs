namespace KnowledgeDistillation.Engine;

/// <summary>The outcome of <see cref="Distiller.Fit"/>: per-epoch history, final metrics and wall time.</summary>
public sealed class FitResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="history">Every epoch, in order.</param>
    /// <param name="wallTime">Total wall time.</param>
    /// <param name="stoppedEarly">Whether a callback stopped training early.</param>
    public FitResult(IReadOnlyList<EpochRecord> history, TimeSpan wallTime, bool stoppedEarly)
    {
        History = history ?? throw new ArgumentNullException(nameof(history));
        WallTime = wallTime;
        StoppedEarly = stoppedEarly;
    }

    /// <summary>Every epoch, in order.</summary>
    public IReadOnlyList<EpochRecord> History { get; }

    /// <summary>Total wall time.</summary>
    public TimeSpan WallTime { get; }

    /// <summary>Whether a callback stopped training before the planned epochs.</summary>
    public bool StoppedEarly { get; }

    /// <summary>
    /// True when <see cref="Distiller.Resume"/> found the checkpoint's run already finished for the epochs this run sets:
    /// nothing was trained (a warning is logged too). Raise the last stage's epochs to continue it.
    /// </summary>
    public bool AlreadyComplete { get; init; }

    /// <summary>Epochs completed by this call (the checkpoint's epochs excluded after a resume).</summary>
    public int EpochsTrained { get; init; }

    /// <summary>The last epoch, or <c>null</c> when none ran.</summary>
    public EpochRecord? Last => History.Count == 0 ? null : History[^1];

    /// <summary>The latest evaluated value of a metric for a participant.</summary>
    /// <param name="participant">The participant's name.</param>
    /// <param name="metric">The metric name (default "accuracy").</param>
    /// <exception cref="KeyNotFoundException">No evaluated epoch reported that metric for that participant.</exception>
    public double FinalMetric(string participant, string metric = "accuracy")
    {
        for (var i = History.Count - 1; i >= 0; i--)
        {
            if (History[i].EvalMetrics.TryGetValue(participant, out var metrics) && metrics.TryGetValue(metric, out var value))
            {
                return value;
            }
        }

        throw new KeyNotFoundException($"No evaluated epoch reported '{metric}' for participant '{participant}'. Pass evaluation data to Fit.");
    }
}
