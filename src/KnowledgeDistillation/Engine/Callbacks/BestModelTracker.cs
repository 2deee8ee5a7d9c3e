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
    private Dictionary<string, Tensor>? _best;

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
        using var noGrad = no_grad();
        using var scope = NewDisposeScope(); // state_dict() may hand out new handles; the copies below are detached
        var state = _model.Module.state_dict();
        if (_best is null)
        {
            _best = state.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
        }
        else
        {
            foreach (var (name, tensor) in state)
            {
                _best[name].copy_(tensor);
            }
        }
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
    public void Restore()
    {
        if (_best is null)
        {
            return;
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in _model.Module.state_dict())
        {
            tensor.copy_(_best[name]);
        }
    }

    /// <summary>Frees the stored copy.</summary>
    public void Dispose()
    {
        if (_best is null)
        {
            return;
        }

        foreach (var tensor in _best.Values)
        {
            tensor.Dispose();
        }

        _best = null;
    }
}
