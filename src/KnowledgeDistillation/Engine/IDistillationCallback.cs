namespace KnowledgeDistillation.Engine;

/// <summary>Hooks into a run (progress, logging, early stopping, checkpoints). Every member has an empty default.</summary>
public interface IDistillationCallback
{
    /// <summary>Called before a stage's first epoch.</summary>
    /// <param name="stage">The stage.</param>
    void OnStageStart(DistillationStage stage)
    {
    }

    /// <summary>
    /// Called instead of <see cref="OnStageStart"/> when <see cref="Distiller.Resume"/> continues a stage that had already
    /// begun (the checkpoint lies after its first batch). The default calls <see cref="OnStageStart"/>; a callback whose
    /// state is checkpointed (<see cref="ILossState"/>, restored before this call) overrides it so that the restored
    /// state (a patience count, say) is not reset, and the resumed run decides as the uninterrupted one would.
    /// </summary>
    /// <param name="stage">The stage.</param>
    void OnStageResumed(DistillationStage stage) => OnStageStart(stage);

    /// <summary>Called after every optimisation step (no tensor values are read back for it).</summary>
    /// <param name="step">Where training stands.</param>
    void OnStepEnd(StepInfo step)
    {
    }

    /// <summary>Called after each epoch (and its evaluation).</summary>
    /// <param name="record">The epoch's record.</param>
    /// <param name="control">Lets the callback stop training.</param>
    void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
    }

    /// <summary>Called once training ends normally.</summary>
    /// <param name="result">The result.</param>
    void OnFitEnd(FitResult result)
    {
    }
}

/// <summary>Where training stands after a step.</summary>
/// <param name="Stage">The stage name.</param>
/// <param name="Epoch">The epoch within the stage, from 0.</param>
/// <param name="Step">The global step, from 0.</param>
/// <param name="BatchInEpoch">The batch index within the epoch, from 0.</param>
/// <param name="BatchesPerEpoch">Batches per epoch.</param>
public readonly record struct StepInfo(string Stage, int Epoch, long Step, int BatchInEpoch, int BatchesPerEpoch)
{
    /// <summary>The stage's number of epochs (0 when unknown).</summary>
    public int EpochsInStage { get; init; }

    /// <summary>Samples in this step's batch (0 when unknown); a reporter's throughput is samples per second.</summary>
    public long Samples { get; init; }

    /// <summary>
    /// Reads the mean total loss of the epoch's steps so far (one device read per call, so call it when a display
    /// refreshes, not necessarily every step). Valid only during <see cref="IDistillationCallback.OnStepEnd"/>, on the
    /// training thread; <c>null</c> where it is not (the copy given to <see cref="Distiller.Progress"/>, which may
    /// run later on another thread). Calling it after the step has ended throws <see cref="InvalidOperationException"/>.
    /// </summary>
    public Func<double>? ReadMeanLoss { get; init; }
}

/// <summary>Lets callbacks stop a run after the current epoch.</summary>
public sealed class TrainingControl
{
    /// <summary>Whether a stop was requested.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Why the stop was requested.</summary>
    public string? Reason { get; private set; }

    /// <summary>Whether the current stage was asked to end after this epoch (the run goes on with the next stage).</summary>
    public bool StageStopRequested { get; private set; }

    /// <summary>Why the current stage was asked to end.</summary>
    public string? StageStopReason { get; private set; }

    /// <summary>Stops training after the current epoch.</summary>
    /// <param name="reason">Why (logged).</param>
    public void Stop(string reason)
    {
        StopRequested = true;
        Reason = reason;
    }

    /// <summary>
    /// Ends the current stage after the current epoch; the run continues with the next stage (after the last stage the run
    /// ends as if the stage had run all its epochs, and a checkpoint records the stage as finished).
    /// </summary>
    /// <param name="reason">Why (logged).</param>
    public void StopStage(string reason)
    {
        StageStopRequested = true;
        StageStopReason = reason;
    }

    /// <summary>Clears a stage stop once the engine has ended the stage.</summary>
    internal void ClearStageStop()
    {
        StageStopRequested = false;
        StageStopReason = null;
    }
}
