namespace KnowledgeDistillation.Engine;

/// <summary>
/// Backs <see cref="StepInfo.ReadMeanLoss"/>: reads the epoch's running mean loss while a step's callbacks run, on the
/// training thread, and refuses afterwards (the epoch's sums are device tensors that the next step changes and the
/// epoch's end disposes).
/// </summary>
internal sealed class StepLossReader
{
    private EpochAccumulator? _sums;
    private int _thread;

    public StepLossReader() => Read = ReadMean;

    /// <summary>The delegate handed out in <see cref="StepInfo.ReadMeanLoss"/>.</summary>
    public Func<double> Read { get; }

    /// <summary>Allows reads of <paramref name="sums"/> from the calling thread until <see cref="Close"/>.</summary>
    public void Open(EpochAccumulator sums)
    {
        _sums = sums;
        _thread = Environment.CurrentManagedThreadId;
    }

    public void Close() => _sums = null;

    private double ReadMean()
    {
        if (_sums is not { } sums || Environment.CurrentManagedThreadId != _thread)
        {
            throw new InvalidOperationException(
                "StepInfo.ReadMeanLoss can only be called during IDistillationCallback.OnStepEnd, on the training thread.");
        }

        return sums.MeanLossSoFar();
    }
}
