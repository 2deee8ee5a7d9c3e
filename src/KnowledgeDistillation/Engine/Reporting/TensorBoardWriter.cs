namespace KnowledgeDistillation.Engine;

/// <summary>
/// Writes each epoch's scalars to a TensorBoard event file (<c>tensorboard --logdir DIR</c>): tags
/// <c>{stage}/loss</c>, <c>{stage}/loss/{part}</c>, <c>{stage}/train/{participant}/{metric}</c>,
/// <c>{stage}/eval/{participant}/{metric}</c>, <c>{stage}/lr</c> and <c>{stage}/seconds</c>, at the global step reached
/// at the epoch's end. Every run gets a new <c>events.out.tfevents.*</c> file in the directory; each epoch is appended
/// and closed, so an interrupted run keeps what it wrote.
/// </summary>
public sealed class TensorBoardWriter : IDistillationCallback
{
    private readonly string _directory;
    private TensorBoardEventFile? _file;
    private long _steps;

    /// <summary>Creates the writer; the event file is created at the first stage's start.</summary>
    /// <param name="logDirectory">The run's directory (created if missing), e.g. <c>runs/kd-t4</c>.</param>
    /// <exception cref="ArgumentException">The directory is null or blank.</exception>
    public TensorBoardWriter(string logDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDirectory);
        _directory = logDirectory;
    }

    /// <summary>The event file written so far, or <c>null</c> before the first stage starts.</summary>
    public string? FilePath => _file?.Path;

    /// <inheritdoc />
    public void OnStageStart(DistillationStage stage) => _file ??= new TensorBoardEventFile(_directory);

    /// <inheritdoc />
    public void OnStepEnd(StepInfo step) => _steps = step.Step + 1;

    /// <inheritdoc />
    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(record);
        _file ??= new TensorBoardEventFile(_directory);
        _file.WriteScalars(_steps, EpochScalars.Of(record).Select(s => ($"{record.Stage}/{s.Name}", (float)s.Value)));
    }
}
