namespace KnowledgeDistillation.Engine;

/// <summary>
/// Stops training (or, with <see cref="EarlyStopScope.Stage"/>, the current stage) when an evaluation metric has not improved
/// for <c>patience</c> evaluated epochs. The count restarts at each stage.
/// </summary>
public sealed class EarlyStopping : IDistillationCallback
{
    private readonly MetricMonitor _monitor;
    private readonly int _patience;
    private readonly EarlyStopScope _scope;
    private int _stale;

    /// <summary>Creates the callback (pass evaluation data to <see cref="Distiller.Fit"/>).</summary>
    /// <param name="participant">Whose metric to watch (default "student").</param>
    /// <param name="metric">The metric name (default "accuracy").</param>
    /// <param name="patience">Evaluations without improvement before stopping (&gt;= 1).</param>
    /// <param name="higherIsBetter">Whether larger is better (accuracy) or smaller (a loss).</param>
    /// <param name="minDelta">The smallest change that counts as an improvement (&gt;= 0).</param>
    /// <param name="scope">What a stop ends: the whole run (default) or only the current stage.</param>
    public EarlyStopping(string participant = "student", string metric = "accuracy", int patience = 10, bool higherIsBetter = true, double minDelta = 0, EarlyStopScope scope = EarlyStopScope.Run)
    {
        if (!Enum.IsDefined(scope))
        {
            throw new ArgumentOutOfRangeException(nameof(scope), scope, "Use EarlyStopScope.Run or EarlyStopScope.Stage.");
        }

        if (patience < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(patience), patience, "'patience' must be >= 1.");
        }

        _monitor = new MetricMonitor(participant, metric, higherIsBetter, minDelta);
        _patience = patience;
        _scope = scope;
    }

    /// <summary>The best value seen.</summary>
    public double? Best => _monitor.Best;

    /// <inheritdoc />
    public void OnStageStart(DistillationStage stage) => _stale = 0;

    /// <inheritdoc />
    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(control);
        if (_monitor.Read(record) is not { } value)
        {
            return;
        }

        _stale = _monitor.Improves(value) ? 0 : _stale + 1;
        if (_stale >= _patience)
        {
            var reason = $"{_monitor.Describe} did not improve for {_patience} evaluation(s); best {_monitor.Best:G6}";
            if (_scope == EarlyStopScope.Stage)
            {
                control.StopStage(reason);
            }
            else
            {
                control.Stop(reason);
            }
        }
    }
}
