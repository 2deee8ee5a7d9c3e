namespace KnowledgeDistillation.Engine;

/// <summary>
/// The mutable state of one <see cref="Distiller.Fit"/> or <see cref="Distiller.Resume"/> call: where training stands,
/// the history so far, the partial sums of an interrupted epoch, and whether a callback asked to stop.
/// </summary>
internal sealed class RunState
{
    public RunState(CheckpointWriter checkpoints)
    {
        Checkpoints = checkpoints;
    }

    /// <summary>Writes and reads this run's checkpoints.</summary>
    public CheckpointWriter Checkpoints { get; }

    /// <summary>The next step to run.</summary>
    public TrainingPosition Position { get; set; } = TrainingPosition.Start;

    /// <summary>Where this call started (the checkpoint's position on resume).</summary>
    public TrainingPosition Start { get; set; } = TrainingPosition.Start;

    /// <summary>Every finished epoch, those of a resumed checkpoint included.</summary>
    public List<EpochRecord> History { get; } = new();

    /// <summary>The sums of the epoch a checkpoint interrupted; consumed by the first epoch that runs.</summary>
    public EpochProgress? Partial { get; set; }

    /// <summary>The resumed stage's settings and optimisers, when resuming inside a stage.</summary>
    public (StageRun Run, OptimizerSet? Optimizers)? Resumed { get; set; }

    /// <summary>The evaluation data's class count (largest label + 1), checked with the training labels; null when unknown.</summary>
    public int? EvaluationClassCount { get; init; }

    /// <summary>Whether the labels were checked against the participants' class counts (once per call).</summary>
    public bool CheckedClasses { get; set; }

    /// <summary>Set when a finished run is continued to more epochs: the last stage's epochs before; marks the first new record.</summary>
    public int? ContinuedFrom { get; set; }

    /// <summary>The epochs the resumed checkpoint's history held (0 for a fresh run).</summary>
    public int ResumedEpochs { get; set; }

    /// <summary>Whether a resumed checkpoint had already finished every epoch this run sets (nothing to train).</summary>
    public bool AlreadyComplete { get; set; }

    /// <summary>Lets callbacks stop training.</summary>
    public TrainingControl Control { get; } = new();

    /// <summary>The batch to start the given epoch at (non-zero only for the epoch a checkpoint interrupted).</summary>
    public int StartBatch(int stageIndex, int epoch) =>
        stageIndex == Start.StageIndex && epoch == Start.Epoch ? Start.BatchInEpoch : 0;
}
