namespace KnowledgeDistillation.Engine;

/// <summary>What happened in one epoch: mean loss and parts, metrics per participant, learning rate and time.</summary>
public sealed record EpochRecord
{
    /// <summary>The stage name.</summary>
    public required string Stage { get; init; }

    /// <summary>The epoch within the stage, from 0.</summary>
    public required int Epoch { get; init; }

    /// <summary>Optimisation steps taken (skipped batches excluded).</summary>
    public required int Steps { get; init; }

    /// <summary>Batches skipped because their loss was not finite.</summary>
    public int SkippedSteps { get; init; }

    /// <summary>The mean total loss over the epoch's steps.</summary>
    public required double Loss { get; init; }

    /// <summary>The mean of each loss part over the epoch's steps.</summary>
    public required IReadOnlyDictionary<string, double> LossParts { get; init; }

    /// <summary>Training metrics per trainable participant, accumulated during the epoch.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> TrainMetrics { get; init; }

    /// <summary>Evaluation metrics per evaluated participant; empty when the epoch was not evaluated.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> EvalMetrics { get; init; }

    /// <summary>The learning rate of the stage's default optimiser settings in the epoch (owners with their own <see cref="DistillationStage.ParticipantOptimizers"/> follow the same schedule from their own base rate).</summary>
    public required double LearningRate { get; init; }

    /// <summary>Wall time of the epoch (training and evaluation).</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>
    /// Set on the first epoch of a continuation (a <see cref="Distiller.Resume"/> that took a finished run to more epochs):
    /// how many epochs the stage had when it finished. The epochs before this record were trained under that epoch
    /// count, which matters for schedules that depend on it (cosine); <c>null</c> on every other record.
    /// </summary>
    public int? ContinuedFromEpochs { get; init; }

    /// <summary>
    /// The number of epochs of this record's stage in the run that wrote it (so a callback can tell a stage's last epoch);
    /// 0 where unknown (records read from checkpoints written before this field existed).
    /// </summary>
    public int StageEpochs { get; init; }

    /// <summary>
    /// Whether the stage ended after this epoch, before its epoch count, because a callback asked
    /// (<see cref="TrainingControl.StopStage"/>); the run went on with the next stage. A checkpoint accepts a stage with fewer
    /// epochs only when its last record says so, and a finished run whose last stage ended early is not continued.
    /// </summary>
    public bool EndedStage { get; init; }
}
