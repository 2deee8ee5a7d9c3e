namespace KnowledgeDistillation.Engine;

/// <summary>Settings of a distillation run (bindable from configuration; <see cref="Validate"/> names any bad key).</summary>
public sealed class DistillerOptions
{
    /// <summary>Epochs of a stage that does not set its own (default 10), &gt;= 1.</summary>
    public int Epochs { get; set; } = 10;

    /// <summary>The device every participant, loss module and batch lives on: "cpu", "cuda" or "cuda:N" (default "cpu"); <see cref="Validate"/> checks that it is available.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// Seed for TorchSharp's generator at the start of <see cref="Distiller.Fit"/> (dropout and other random ops); <c>null</c>
    /// leaves it alone. Models are initialised when they are constructed, before <c>Fit</c>: to make a whole run
    /// reproducible, call <see cref="Reproducibility.Seed"/> before creating them.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>
    /// The default of <see cref="Threads"/>: half the logical processors, at least 1 (1 on a 2-core machine; on a machine
    /// with two hardware threads per core, one per physical core, as TorchSharp's own default). Chosen from measurements on
    /// a shared 2-core machine, where 2 threads ran a KD epoch up to several times slower than 1 whenever other work ran
    /// (docs/benchmarks.md, "Threads").
    /// </summary>
    public static int DefaultThreads { get; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>
    /// CPU threads TorchSharp uses for each operation during <see cref="Distiller.Fit"/>, <see cref="Distiller.Resume"/>
    /// and <see cref="Distiller.Evaluate"/>: set with <c>torch.set_num_threads</c> when the call starts and restored when
    /// it ends (the setting is process-wide while the call runs). <c>null</c> leaves TorchSharp's count alone (one
    /// thread per physical core unless the application set it). Default <see cref="DefaultThreads"/>; &gt;= 1 when set.
    /// </summary>
    public int? Threads { get; set; } = DefaultThreads;

    /// <summary>The optimiser of stages that do not set their own.</summary>
    public OptimizerOptions Optimizer { get; set; } = new();

    /// <summary>The learning-rate schedule of stages that do not set their own.</summary>
    public LearningRateScheduleOptions LearningRateSchedule { get; set; } = new();

    /// <summary>Clip the global gradient norm to this value (&gt; 0) before each update; <c>null</c> disables clipping.</summary>
    public double? MaxGradNorm { get; set; }

    /// <summary>What to do when a step's loss is NaN or infinite (default: throw with context).</summary>
    public NonFiniteLossPolicy NonFiniteLoss { get; set; } = NonFiniteLossPolicy.Throw;

    /// <summary>When losses are checked for NaN/infinity (default every step; <see cref="NonFiniteCheck.EpochEnd"/> avoids a device read per step on CUDA).</summary>
    public NonFiniteCheck NonFiniteCheck { get; set; } = NonFiniteCheck.EveryStep;

    /// <summary>Checkpoint settings (default: no checkpoints).</summary>
    public CheckpointOptions Checkpoint { get; set; } = new();

    /// <summary>Evaluate every this many epochs (and always after a stage's last epoch), &gt;= 1 (default 1).</summary>
    public int EvaluateEveryEpochs { get; set; } = 1;

    /// <summary>
    /// In a data-parallel run (<see cref="Distiller.ProcessGroup"/>), the most bytes of float32 gradients averaged by one
    /// allreduce call (default 25 MiB, as PyTorch DDP); small parameters share a bucket, which cuts the call count.
    /// &gt;= 4. Ignored in a single process.
    /// </summary>
    public int GradientBucketBytes { get; set; } = 25 * 1024 * 1024;

    /// <summary>Whether evaluation also measures frozen teachers (default false: students and trainable teachers only).</summary>
    public bool EvaluateTeachers { get; set; }

    /// <summary>Checks every value; throws an exception whose parameter name is the offending key.</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public void Validate()
    {
        if (Epochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be >= 1.");
        }

        if (string.IsNullOrWhiteSpace(Device))
        {
            throw new ArgumentException("Device must be \"cpu\", \"cuda\" or \"cuda:N\".", nameof(Device));
        }

        if (Threads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), Threads, "Threads must be >= 1 (or null to leave TorchSharp's thread count alone).");
        }
        DeviceParser.Parse(Device, nameof(Device)); // the device must exist on this machine, not only be spelled right

        if (MaxGradNorm is { } norm)
        {
            Guard.Positive(norm, nameof(MaxGradNorm));
        }

        if (EvaluateEveryEpochs < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(EvaluateEveryEpochs), EvaluateEveryEpochs, "EvaluateEveryEpochs must be >= 1.");
        }

        if (GradientBucketBytes < sizeof(float))
        {
            throw new ArgumentOutOfRangeException(nameof(GradientBucketBytes), GradientBucketBytes, "GradientBucketBytes must be >= 4 (one float32 gradient).");
        }

        if (!Enum.IsDefined(NonFiniteLoss))
        {
            throw new ArgumentOutOfRangeException(nameof(NonFiniteLoss), NonFiniteLoss, "Unknown policy.");
        }

        if (!Enum.IsDefined(NonFiniteCheck))
        {
            throw new ArgumentOutOfRangeException(nameof(NonFiniteCheck), NonFiniteCheck, "Unknown check.");
        }

        if (NonFiniteCheck == NonFiniteCheck.EpochEnd && NonFiniteLoss == NonFiniteLossPolicy.Skip)
        {
            throw new ArgumentException("NonFiniteLoss = Skip needs NonFiniteCheck = EveryStep (a batch can only be skipped when it is checked).", nameof(NonFiniteLoss));
        }

        ArgumentNullException.ThrowIfNull(Checkpoint, nameof(Checkpoint));
        Checkpoint.Validate();
        ArgumentNullException.ThrowIfNull(Optimizer, nameof(Optimizer));
        ArgumentNullException.ThrowIfNull(LearningRateSchedule, nameof(LearningRateSchedule));
        Optimizer.Validate();
        LearningRateSchedule.Validate();
    }
}
