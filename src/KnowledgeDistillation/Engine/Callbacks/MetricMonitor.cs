namespace KnowledgeDistillation.Engine;

/// <summary>Follows one evaluation metric of one participant across epochs and says when it improved.</summary>
internal sealed class MetricMonitor
{
    private readonly string _participant;
    private readonly string _metric;
    private readonly bool _higherIsBetter;
    private readonly double _minDelta;

    public MetricMonitor(string participant, string metric, bool higherIsBetter, double minDelta)
    {
        _participant = Guard.Name(participant, nameof(participant));
        _metric = Guard.Name(metric, nameof(metric));
        _higherIsBetter = higherIsBetter;
        _minDelta = Guard.NonNegative(minDelta, nameof(minDelta));
    }

    public double? Best { get; private set; }

    /// <summary>Replaces the best value (a checkpoint's).</summary>
    public void Restore(double? best) => Best = best;

    public string Describe => $"{_participant}.{_metric}";

    /// <summary>Reads the record's value; null when the epoch was not evaluated.</summary>
    public double? Read(EpochRecord record)
    {
        if (record.EvalMetrics.Count == 0)
        {
            return null;
        }

        if (!record.EvalMetrics.TryGetValue(_participant, out var metrics) || !metrics.TryGetValue(_metric, out var value))
        {
            throw new InvalidOperationException(
                $"The monitored metric '{_metric}' of participant '{_participant}' is not in the evaluation results " +
                $"({string.Join(", ", record.EvalMetrics.SelectMany(p => p.Value.Keys.Select(k => $"{p.Key}.{k}")))}).");
        }

        return value;
    }

    /// <summary>Returns whether <paramref name="value"/> beats the best so far by more than the minimum delta, and records it if so.</summary>
    public bool Improves(double value)
    {
        var better = Best is not { } best || (_higherIsBetter ? value > best + _minDelta : value < best - _minDelta);
        if (better)
        {
            Best = value;
        }

        return better;
    }
}
