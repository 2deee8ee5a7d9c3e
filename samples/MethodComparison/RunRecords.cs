namespace MethodComparison;

/// <summary>One evaluated epoch of a run.</summary>
/// <param name="Stage">The recipe stage.</param>
/// <param name="Epoch">The epoch within the stage, from 0.</param>
/// <param name="ValidationAccuracy">Accuracy on the validation images (null without a validation split).</param>
/// <param name="TestAccuracy">Accuracy on the test images.</param>
/// <param name="Loss">The epoch's mean training loss.</param>
/// <param name="Parts">The epoch's mean of every reported loss part (e.g. "ce", "hkd.individual"); null in older files.</param>
internal sealed record EpochPoint(string Stage, int Epoch, double? ValidationAccuracy, double TestAccuracy, double Loss, IReadOnlyDictionary<string, double>? Parts = null);

/// <summary>The raw result of one method on one seed (one JSON file under <c>runs/</c>).</summary>
internal sealed record MethodRun
{
    public required string Method { get; init; }

    public required int Seed { get; init; }

    /// <summary>Test accuracy after the last epoch.</summary>
    public required double LastAccuracy { get; init; }

    /// <summary>Test accuracy at the final stage's epoch with the best validation accuracy (the best test epoch without validation).</summary>
    public required double BestValidationEpochAccuracy { get; init; }

    /// <summary>That epoch (0-based, within the final stage).</summary>
    public required int BestEpoch { get; init; }

    /// <summary>Training wall time in seconds (all stages; the per-epoch validation and test passes excluded).</summary>
    public required double TrainSeconds { get; init; }

    /// <summary>Peak resident set size of the process in MiB (VmHWM), or null where not measured.</summary>
    public double? PeakMemoryMiB { get; init; }

    /// <summary>CRD: seconds spent in the memory-bank update, and its steps.</summary>
    public double? BankUpdateSeconds { get; init; }

    public long Steps { get; init; }

    public int Threads { get; init; }

    /// <summary>The 1-minute load average when the run started and ended (Linux <c>/proc/loadavg</c>).</summary>
    public double? LoadStart { get; init; }

    public double? LoadEnd { get; init; }

    public required IReadOnlyList<EpochPoint> Epochs { get; init; }

    public string? Description { get; init; }
}

/// <summary>A trained teacher (or assistant) and its accuracy.</summary>
internal sealed record TeacherRecord(string Name, string Architecture, long Parameters, int Epochs, double TestAccuracy, double TrainSeconds);

/// <summary>One round of the step-time mode: each method's mean step time in that round.</summary>
internal sealed record StepTimeRound(int Round, IReadOnlyDictionary<string, double> SecondsPerStep, double? CrdBankSecondsPerStep);
