using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Keeps a copy of a participant's weights (parameters and buffers) from the epoch with the best evaluation
/// metric, and restores them when training ends (or on <see cref="Restore"/>). Of epochs with equal best values the first is
/// kept, or the last with <c>preferLaterTies</c> (on small validation sets many epochs tie, and the first of them is often
/// an early, under-trained one). The selection (best value, where it was, the kept weights) is checkpointed with the run
/// (<see cref="ILossState"/>), so a resumed run restores the weights the uninterrupted one would.
/// </summary>
public sealed class BestModelTracker : IDistillationCallback, ILossState, IDisposable
{
    private const string BestKey = "best";
    private const string BestStageKey = "best-stage";
    private const string BestEpochKey = "best-epoch";
    private const string WeightsPrefix = "weights/";

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
    /// <param name="name">The checkpoint key of the tracker's state, unique among the run's states (default "best-model/MODEL.METRIC").</param>
    public BestModelTracker(IDistillationModel model, string metric = "accuracy", bool higherIsBetter = true, bool restoreAtEnd = true, bool preferLaterTies = false, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (name is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name);
        }

        _model = model;
        _monitor = new MetricMonitor(model.Name, metric, higherIsBetter, 0);
        _restoreAtEnd = restoreAtEnd;
        _preferLaterTies = preferLaterTies;
        Name = name ?? $"best-model/{model.Name}.{metric}";
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The best value seen.</summary>
    public double? Best => _monitor.Best;

    /// <summary>The epoch record of the best value (after a resume, set once the run ends, from its history).</summary>
    public EpochRecord? BestEpoch { get; private set; }

    /// <summary>The stage and epoch (within the stage, from 0) of the best value, or <c>null</c> before the first evaluation.</summary>
    public (string Stage, int Epoch)? BestAt { get; private set; }

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
        BestAt = (record.Stage, record.Epoch);
        _best.Capture(_model.Module);
    }

    /// <inheritdoc />
    public void OnFitEnd(FitResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (BestEpoch is null && BestAt is { } at)
        {
            BestEpoch = result.History.LastOrDefault(r => r.Stage == at.Stage && r.Epoch == at.Epoch);
        }

        if (_restoreAtEnd)
        {
            Restore();
        }
    }

    /// <summary>Loads the best weights seen into the model (no-op before the first evaluation).</summary>
    public void Restore() => _best.Restore(_model.Module);

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Tensor> Export()
    {
        var state = new Dictionary<string, Tensor>();
        if (_monitor.Best is { } best && BestAt is { } at)
        {
            state[BestKey] = tensor(new[] { best });
            state[BestStageKey] = tensor(System.Text.Encoding.UTF8.GetBytes(at.Stage));
            state[BestEpochKey] = tensor(new long[] { at.Epoch });
        }

        _best.ExportTo(state, WeightsPrefix);

        return state;
    }

    /// <inheritdoc />
    public void Import(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var hasBest = state.TryGetValue(BestKey, out var best);
        if (hasBest != (state.ContainsKey(BestStageKey) && state.ContainsKey(BestEpochKey))
            || (hasBest && (best!.numel() != 1 || best.dtype != ScalarType.Float64 || state[BestEpochKey].numel() != 1 || state[BestStageKey].dtype != ScalarType.Byte)))
        {
            throw new InvalidDataException($"The best-model state '{Name}' has an incomplete best value (expected '{BestKey}', '{BestStageKey}' and '{BestEpochKey}' together).");
        }

        var unknown = state.Keys.Where(k => !k.StartsWith(WeightsPrefix, StringComparison.Ordinal) && k is not (BestKey or BestStageKey or BestEpochKey)).ToArray();
        if (unknown.Length > 0)
        {
            throw new InvalidDataException($"The best-model state '{Name}' holds unknown entries [{string.Join(", ", unknown)}].");
        }

        var weightCount = state.Keys.Count(k => k.StartsWith(WeightsPrefix, StringComparison.Ordinal));
        if (hasBest != (weightCount > 0))
        {
            throw new InvalidDataException($"The best-model state '{Name}' holds {(hasBest ? "a best value without weights" : "weights without a best value")}.");
        }

        _best.ImportFrom(state, WeightsPrefix, _model.Module, Name);
        _monitor.Restore(hasBest ? best!.item<double>() : null);
        BestAt = hasBest ? (System.Text.Encoding.UTF8.GetString(state[BestStageKey].data<byte>().ToArray()), checked((int)state[BestEpochKey].item<long>())) : null;
        BestEpoch = null;
    }

    /// <summary>Frees the stored copy.</summary>
    public void Dispose() => _best.Dispose();
}
