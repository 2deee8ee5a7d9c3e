using KnowledgeDistillation.Data;
using KnowledgeDistillation.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Sums an epoch's loss, loss parts and training metrics in device tensors (no host read per step), and
/// turns them into an <see cref="EpochRecord"/> (or a checkpointable <see cref="EpochProgress"/>) once.
/// </summary>
internal sealed class EpochAccumulator : IDisposable
{
    private readonly Dictionary<string, Tensor> _parts = new();
    private readonly Dictionary<string, IMetric[]> _metrics;
    private Tensor? _total;
    private Tensor? _firstNonFiniteStep;

    public EpochAccumulator(IEnumerable<IDistillationModel> trainable, IEnumerable<Func<IMetric>> metrics)
    {
        var factories = metrics.ToArray();
        _metrics = trainable.ToDictionary(p => p.Name, _ => factories.Select(f => f()).ToArray());
    }

    public int Steps { get; private set; }

    public int Skipped { get; private set; }

    public void Skip() => Skipped++;

    public void Add(LossResult loss, IReadOnlyDictionary<string, ModelOutput> outputs, Batch batch)
    {
        Accumulate(ref _total, loss.Total);
        foreach (var (name, value) in loss.Parts)
        {
            _parts.TryGetValue(name, out var sum);
            Accumulate(ref sum, value);
            _parts[name] = sum!;
        }

        foreach (var (participant, metrics) in _metrics)
        {
            foreach (var metric in metrics)
            {
                metric.Update(outputs[participant], batch);
            }
        }

        Steps++;
    }

    /// <summary>Records, on the device, the first global step whose loss is not finite.</summary>
    public void TrackNonFinite(Tensor total, long step)
    {
        var bad = isfinite(total.detach()).all().logical_not();
        if (_firstNonFiniteStep is null)
        {
            _firstNonFiniteStep = full(1, -1L, ScalarType.Int64, total.device).DetachFromDisposeScope();
        }

        var unset = _firstNonFiniteStep.lt(0);
        _firstNonFiniteStep.copy_(where(unset.logical_and(bad), full(1, step, ScalarType.Int64, total.device), _firstNonFiniteStep));
    }

    /// <summary>The first non-finite step recorded by <see cref="TrackNonFinite"/>, or null (one host read).</summary>
    public long? FirstNonFiniteStep()
    {
        if (_firstNonFiniteStep is null)
        {
            return null;
        }

        var step = _firstNonFiniteStep.item<long>();
        return step < 0 ? null : step;
    }

    public EpochRecord ToRecord(string stage, int epoch, double learningRate, TimeSpan duration, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> evaluation) => new()
    {
        Stage = stage,
        Epoch = epoch,
        Steps = Steps,
        SkippedSteps = Skipped,
        Loss = Mean(_total),
        LossParts = _parts.ToDictionary(p => p.Key, p => Mean(p.Value)),
        TrainMetrics = _metrics.ToDictionary(
            p => p.Key,
            p => (IReadOnlyDictionary<string, double>)p.Value
                .Select(m => (m.Name, Value: m.Compute()))
                .Where(m => !double.IsNaN(m.Value))
                .ToDictionary(m => m.Name, m => m.Value)),
        EvalMetrics = evaluation,
        LearningRate = learningRate,
        Duration = duration,
    };

    public EpochProgress ToProgress() => new()
    {
        TotalSum = _total?.item<double>(),
        PartSums = _parts.ToDictionary(p => p.Key, p => p.Value.item<double>()),
        Steps = Steps,
        Skipped = Skipped,
        MetricStates = _metrics.ToDictionary(
            p => p.Key,
            p => p.Value.OfType<IResumableMetric>().ToDictionary(m => m.Name, m => m.GetState())),
    };

    public void Restore(EpochProgress progress, Device device)
    {
        Steps = progress.Steps;
        Skipped = progress.Skipped;
        if (progress.TotalSum is { } total)
        {
            _total = tensor(total, ScalarType.Float64, device).DetachFromDisposeScope();
        }

        foreach (var (name, value) in progress.PartSums)
        {
            _parts[name] = tensor(value, ScalarType.Float64, device).DetachFromDisposeScope();
        }

        foreach (var (participant, states) in progress.MetricStates)
        {
            if (!_metrics.TryGetValue(participant, out var metrics))
            {
                continue;
            }

            foreach (var metric in metrics.OfType<IResumableMetric>())
            {
                if (states.TryGetValue(metric.Name, out var state))
                {
                    try
                    {
                        metric.SetState(state);
                    }
                    catch (ArgumentException e)
                    {
                        throw new InvalidDataException(
                            $"The checkpoint's field 'Partial.MetricStates' holds an invalid state for metric '{metric.Name}' of '{participant}': {e.Message}", e);
                    }
                }
            }
        }
    }

    /// <summary>
    /// In a data-parallel run, replaces this rank's sums with the mean over the ranks (loss and parts: every rank ran the
    /// same number of steps) and the metrics' states with their sum (their states are counts, as <see cref="Accuracy"/>'s),
    /// so every rank records the run's epoch. One allreduce of float64 values; parts are reduced in name order.
    /// </summary>
    public void ReduceAcrossRanks(DataParallel dataParallel)
    {
        if (!dataParallel.Enabled)
        {
            return;
        }

        var names = _parts.Keys.Order(StringComparer.Ordinal).ToArray();
        var resumable = _metrics.OrderBy(p => p.Key, StringComparer.Ordinal).SelectMany(p => p.Value.OfType<IResumableMetric>()).ToArray();
        var states = resumable.Select(m => m.GetState()).ToArray();
        var values = new List<double> { names.Length, _total?.item<double>() ?? 0 };
        values.AddRange(names.Select(n => _parts[n].item<double>()));
        values.AddRange(states.SelectMany(s => s));
        var reduced = values.ToArray();
        dataParallel.SumInPlace(reduced);
        if (reduced[0] != names.Length * (double)dataParallel.Size)
        {
            throw new InvalidOperationException(
                $"The ranks of this data-parallel run recorded different loss parts ({names.Length} here: {string.Join(", ", names)}); every rank must run the same loss.");
        }

        _total?.fill_(reduced[1] / dataParallel.Size);
        for (var i = 0; i < names.Length; i++)
        {
            _parts[names[i]].fill_(reduced[2 + i] / dataParallel.Size);
        }

        var offset = 2 + names.Length;
        for (var m = 0; m < resumable.Length; m++)
        {
            resumable[m].SetState(reduced.AsSpan(offset, states[m].Length).ToArray());
            offset += states[m].Length;
        }
    }

    public void Dispose()
    {
        _total?.Dispose();
        _firstNonFiniteStep?.Dispose();
        foreach (var sum in _parts.Values)
        {
            sum.Dispose();
        }

        foreach (var metric in _metrics.Values.SelectMany(m => m))
        {
            metric.Dispose();
        }
    }

    private static void Accumulate(ref Tensor? sum, Tensor value)
    {
        var scalar = value.detach().to(ScalarType.Float64).sum();
        if (sum is null)
        {
            sum = scalar.clone().DetachFromDisposeScope();
        }
        else
        {
            sum.add_(scalar);
        }
    }

    /// <summary>The mean total loss of the steps so far (one host read); NaN before the first step.</summary>
    public double MeanLossSoFar() => Mean(_total);

    private double Mean(Tensor? sum) => sum is null || Steps == 0 ? double.NaN : sum.item<double>() / Steps;
}
