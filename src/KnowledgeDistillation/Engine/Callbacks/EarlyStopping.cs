using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Stops training (or, with <see cref="EarlyStopScope.Stage"/>, the current stage) when an evaluation metric has not improved
/// for <c>patience</c> evaluated epochs. The count restarts at each stage. The best value and the count are checkpointed with
/// the run (<see cref="ILossState"/>), so a resumed run stops where the uninterrupted one would.
/// </summary>
public sealed class EarlyStopping : IDistillationCallback, ILossState
{
    private const string StaleKey = "stale";
    private const string BestKey = "best";

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
    /// <param name="name">The checkpoint key of the callback's state, unique among the run's states (default "early-stopping/PARTICIPANT.METRIC").</param>
    public EarlyStopping(string participant = "student", string metric = "accuracy", int patience = 10, bool higherIsBetter = true, double minDelta = 0, EarlyStopScope scope = EarlyStopScope.Run, string? name = null)
    {
        if (name is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
        }

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
        Name = name ?? $"early-stopping/{participant}.{metric}";
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The best value seen.</summary>
    public double? Best => _monitor.Best;

    /// <inheritdoc />
    public void OnStageStart(DistillationStage stage) => _stale = 0;

    /// <summary>Keeps the count restored from the checkpoint (the stage had begun before the stop).</summary>
    /// <param name="stage">The stage.</param>
    public void OnStageResumed(DistillationStage stage)
    {
    }

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

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Tensor> Export()
    {
        var state = new Dictionary<string, Tensor> { [StaleKey] = tensor(new long[] { _stale }) };
        if (_monitor.Best is { } best)
        {
            state[BestKey] = tensor(new[] { best });
        }

        return state;
    }

    /// <inheritdoc />
    public void Import(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.TryGetValue(StaleKey, out var stale) || stale.numel() != 1 || stale.dtype != ScalarType.Int64)
        {
            throw new InvalidDataException($"The early-stopping state '{Name}' has no '{StaleKey}' count (one int64).");
        }

        var hasBest = state.TryGetValue(BestKey, out var best);
        if ((hasBest && (best!.numel() != 1 || best.dtype != ScalarType.Float64)) || state.Count != (hasBest ? 2 : 1))
        {
            throw new InvalidDataException($"The early-stopping state '{Name}' holds [{string.Join(", ", state.Keys)}]; expected '{StaleKey}' and an optional '{BestKey}' (one float64).");
        }

        _stale = checked((int)stale.item<long>());
        _monitor.Restore(hasBest ? best!.item<double>() : null);
    }
}
