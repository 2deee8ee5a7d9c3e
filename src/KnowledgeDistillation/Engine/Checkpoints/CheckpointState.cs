using System.Text.Json.Serialization;

namespace KnowledgeDistillation.Engine;

/// <summary>The position and bookkeeping of a run, saved as the JSON part of a checkpoint.</summary>
internal sealed record CheckpointState
{
    public const int CurrentFormat = 2;

    public int Format { get; init; } = CurrentFormat;

    /// <summary>Participants whose module state follows, in order.</summary>
    public required string[] SavedParticipants { get; init; }

    /// <summary>Fingerprints of the frozen participants (not saved; must be unchanged on resume).</summary>
    public required Dictionary<string, string> FrozenFingerprints { get; init; }

    public required string[] Stages { get; init; }

    /// <summary>Number of loss modules (of all stages, in order) whose state follows the participants.</summary>
    public required int LossModules { get; init; }

    /// <summary>Names of the losses' checkpointed states (in order), whose tensors follow the loss modules.</summary>
    public string[] LossStates { get; init; } = Array.Empty<string>();

    public required int StageIndex { get; init; }

    public required int Epoch { get; init; }

    /// <summary>The next batch to run within <see cref="Epoch"/>.</summary>
    public required int BatchInEpoch { get; init; }

    public required long Step { get; init; }

    public required int DataEpoch { get; init; }

    /// <summary>The optimisers (owner:type, in order) when their state follows, else null (checkpoint at a stage boundary).</summary>
    public string? Optimizer { get; init; }

    public required List<EpochRecord> History { get; init; }

    public EpochProgress? Partial { get; init; }

    /// <summary>
    /// Set (not saved) when a finished run is continued to more epochs of its last stage: the epochs that stage had run.
    /// The position then points inside that stage (<see cref="RunContinuation"/>).
    /// </summary>
    [JsonIgnore]
    public int? ContinuedFromEpochs { get; init; }
}

/// <summary>The sums of a partly run epoch, so a resumed epoch reports the same means.</summary>
internal sealed record EpochProgress
{
    public required double? TotalSum { get; init; }

    public required Dictionary<string, double> PartSums { get; init; }

    public required int Steps { get; init; }

    public required int Skipped { get; init; }

    public required Dictionary<string, Dictionary<string, double[]>> MetricStates { get; init; }
}
