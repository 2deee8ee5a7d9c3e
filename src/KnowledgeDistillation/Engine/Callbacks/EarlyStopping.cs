namespace KnowledgeDistillation.Engine;

/// <summary>Stops training when an evaluation metric has not improved for <c>patience</c> evaluated epochs.</summary>
public sealed class EarlyStopping : IDistillationCallback
{
    private readonly MetricMonitor _monitor;
    private readonly int _patience;
    private int _stale;

    /// <summary>Creates the callback (pass evaluation data to <see cref="Distiller.Fit"/>).</summary>
    /// <param name="participant">Whose metric to watch (default "student").</param>
    /// <param name="metric">The metric name (default "accuracy").</param>
    /// <param name="patience">Evaluations without improvement before stopping (&gt;= 1).</param>
    /// <param name="higherIsBetter">Whether larger is better (accuracy) or smaller (a loss).</param>
    /// <param name="minDelta">The smallest change that counts as an improvement (&gt;= 0).</param>
    public EarlyStopping(string participant = "student", string metric = "accuracy", int patience = 10, bool higherIsBetter = true, double minDelta = 0)
    {
        if (patience < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(patience), patience, "'patience' must be >= 1.");
        }

        _monitor = new MetricMonitor(participant, metric, higherIsBetter, minDelta);
        _patience = patience;
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
            control.Stop($"{_monitor.Describe} did not improve for {_patience} evaluation(s); best {_monitor.Best:G6}");
        }
    }
}
