using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Keeps a copy of a participant's weights (parameters and buffers) from the epoch with the best evaluation
/// metric, and restores them when training ends (or on <see cref="Restore"/>). Of epochs with equal best values the first is
/// kept, or the last with <c>preferLaterTies</c> (on small validation sets many epochs tie, and the first of them is often
/// an early, under-trained one).
/// </summary>
public sealed class BestModelTracker : IDistillationCallback, IDisposable
{
    private readonly IDistillationModel _model;
    private readonly MetricMonitor _monitor;
    private readonly bool _restoreAtEnd;
    private readonly bool _preferLaterTies;
    private readonly WeightSnapshot _best = new();

    /// <summary>Creates the tracker (pass evaluation data to <see cref="Distiller.Fit"/>).</summary>
    /// <param name="model">The participant to track.</param>
    /// <param name="metric">The metric name (default "accuracy").</param>
    /// <param name="higherIsBetter">Whether larger is better.</param>
    /// <param name="restoreAtEnd">Whether to load the best weights back into the model when training ends (default true).</param>
    /// <param name="preferLaterTies">Whether an epoch that equals the best value replaces the kept weights (default false: the first best is kept).</param>
    public BestModelTracker(IDistillationModel model, string metric = "accuracy", bool higherIsBetter = true, bool restoreAtEnd = true, bool preferLaterTies = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _monitor = new MetricMonitor(model.Name, metric, higherIsBetter, 0);
        _restoreAtEnd = restoreAtEnd;
        _preferLaterTies = preferLaterTies;
    }

    /// <summary>The best value seen.</summary>
    public double? Best => _monitor.Best;

    /// <summary>The epoch record of the best value.</summary>
    public EpochRecord? BestEpoch { get; private set; }

    /// <inheritdoc />
    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_monitor.Read(record) is not { } value)
        {
            return;
        }

        var tie = _preferLaterTies && _monitor.Best is { } best && value == best;
        if (!_monitor.Improves(value) && !tie)
        {
            return;
        }

        BestEpoch = record;
        _best.Capture(_model.Module);
    }

    /// <inheritdoc />
    public void OnFitEnd(FitResult result)
    {
        if (_restoreAtEnd)
        {
            Restore();
        }
    }

    /// <summary>Loads the best weights seen into the model (no-op before the first evaluation).</summary>
    public void Restore() => _best.Restore(_model.Module);

    /// <summary>Frees the stored copy.</summary>
    public void Dispose() => _best.Dispose();
}
