using KnowledgeDistillation.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// Stops training when an evaluation metric of one participant has not improved for <see cref="Patience"/> epochs,
/// and restores that participant's best parameters when the fit ends (CPF: patience 50 on validation accuracy).
/// </summary>
public sealed class EarlyStopping : IDistillationCallback, IDisposable
{
    private readonly nn.Module module;
    private readonly string participant;
    private readonly string metric;
    private Dictionary<string, Tensor>? best;
    private int sinceBest;

    /// <summary>Watches <paramref name="metric"/> of <paramref name="participant"/> (whose module is <paramref name="module"/>).</summary>
    public EarlyStopping(nn.Module module, string participant, string metric = "val_accuracy", int patience = 50)
    {
        ArgumentNullException.ThrowIfNull(module);
        this.module = module;
        this.participant = string.IsNullOrWhiteSpace(participant) ? throw new ArgumentException("A participant name is required.", nameof(participant)) : participant;
        this.metric = string.IsNullOrWhiteSpace(metric) ? throw new ArgumentException("A metric name is required.", nameof(metric)) : metric;
        Patience = patience >= 1 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, "'patience' must be >= 1.");
    }

    /// <summary>Epochs without improvement before stopping.</summary>
    public int Patience { get; }

    /// <summary>Best value seen (NaN before the first evaluation).</summary>
    public double BestValue { get; private set; } = double.NaN;

    /// <summary>Zero-based epoch of the best value (-1 before the first evaluation).</summary>
    public int BestEpoch { get; private set; } = -1;

    /// <inheritdoc />
    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(control);
        if (!record.EvalMetrics.TryGetValue(participant, out var metrics) || !metrics.TryGetValue(metric, out var value))
        {
            return;
        }

        if (double.IsNaN(BestValue) || value > BestValue)
        {
            BestValue = value;
            BestEpoch = record.Epoch;
            sinceBest = 0;
            Snapshot();
            return;
        }

        if (++sinceBest >= Patience)
        {
            control.Stop($"{participant}.{metric} did not improve for {Patience} epochs (best {BestValue:F4} at epoch {BestEpoch + 1})");
        }
    }

    /// <inheritdoc />
    public void OnFitEnd(FitResult result)
    {
        if (best is null)
        {
            return;
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in module.state_dict())
        {
            if (best.TryGetValue(name, out var saved))
            {
                tensor.copy_(saved);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => Clear();

    private void Snapshot()
    {
        Clear();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        best = module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope());
    }

    private void Clear()
    {
        if (best is null)
        {
            return;
        }

        foreach (var t in best.Values)
        {
            t.Dispose();
        }

        best = null;
    }
}
