using System.Diagnostics;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Internal;
using KnowledgeDistillation.Metrics;
using KnowledgeDistillation.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// The training engine: runs participants, computes the stage's loss, back-propagates and updates every
/// trainable parameter (students, trainable teachers, the loss's own modules), evaluates, logs, checkpoints
/// and calls callbacks. Nothing method-specific lives here: a method is participants + a loss + stages.
/// </summary>
public sealed partial class Distiller : IDisposable
{
    private readonly IReadOnlyList<IDistillationModel> _participants;
    private readonly IReadOnlyList<DistillationStage> _stages;
    private readonly DistillerOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates a single-stage run of a teacher and a student.</summary>
    /// <param name="teacher">The teacher.</param>
    /// <param name="student">The student.</param>
    /// <param name="loss">The objective, e.g. <c>0.9 * new KDLoss(4) + 0.1 * new CrossEntropyLoss()</c>.</param>
    /// <param name="options">Settings; default <see cref="DistillerOptions"/>.</param>
    /// <param name="logger">Receives per-epoch logs.</param>
    public Distiller(ITeacher teacher, IStudent student, IDistillationLoss loss, DistillerOptions? options = null, ILogger? logger = null)
        : this(new IDistillationModel[] { teacher ?? throw new ArgumentNullException(nameof(teacher)), student ?? throw new ArgumentNullException(nameof(student)) }, loss, options, logger)
    {
    }

    /// <summary>Creates a single-stage run over any participants (one student alone, a cohort of peers, several teachers).</summary>
    /// <param name="participants">The participants, with unique names.</param>
    /// <param name="loss">The objective.</param>
    /// <param name="options">Settings.</param>
    /// <param name="logger">Receives per-epoch logs.</param>
    public Distiller(IEnumerable<IDistillationModel> participants, IDistillationLoss loss, DistillerOptions? options = null, ILogger? logger = null)
        : this(participants, new[] { new DistillationStage("distill", loss ?? throw new ArgumentNullException(nameof(loss))) }, options, logger)
    {
    }

    /// <summary>
    /// Creates a run of a method from the catalogue (<see cref="Losses.Recipes"/>) or your own recipe: its stages, plus its
    /// evaluation models (built from <paramref name="participants"/>) in <see cref="EvaluationModels"/>.
    /// </summary>
    /// <param name="participants">The participants, with unique names.</param>
    /// <param name="recipe">The method.</param>
    /// <param name="options">Settings.</param>
    /// <param name="logger">Receives per-epoch logs.</param>
    /// <exception cref="ArgumentException">As for the stages constructor, or an evaluation model cannot find its participant.</exception>
    public Distiller(IEnumerable<IDistillationModel> participants, DistillationRecipe recipe, DistillerOptions? options = null, ILogger? logger = null)
        : this(participants, (recipe ?? throw new ArgumentNullException(nameof(recipe))).Stages, options, logger)
    {
        foreach (var build in recipe.EvaluationModels)
        {
            EvaluationModels.Add(build(_participants));
        }
    }

    /// <summary>Creates a multi-stage run.</summary>
    /// <param name="participants">The participants, with unique names.</param>
    /// <param name="stages">The stages, run in order, with unique names.</param>
    /// <param name="options">Settings.</param>
    /// <param name="logger">Receives per-epoch logs.</param>
    /// <exception cref="ArgumentException">No participants or stages, duplicate names, or a stage names an unknown participant.</exception>
    public Distiller(IEnumerable<IDistillationModel> participants, IEnumerable<DistillationStage> stages, DistillerOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(participants);
        ArgumentNullException.ThrowIfNull(stages);
        _participants = participants.ToArray();
        _stages = stages.ToArray();
        _options = options ?? new DistillerOptions();
        _logger = logger ?? NullLogger.Instance;
        ValidateSetup();
    }

    /// <summary>Callbacks invoked during <see cref="Fit"/>; those that implement <see cref="ILossState"/> have their state checkpointed.</summary>
    public IList<IDistillationCallback> Callbacks { get; } = new List<IDistillationCallback>();

    /// <summary>Metric factories used for training and evaluation metrics (default: top-1 accuracy).</summary>
    public IList<Func<IMetric>> Metrics { get; } = new List<Func<IMetric>> { () => new Accuracy() };

    /// <summary>
    /// Receives a report after every step (nothing is read from the device for it). <see cref="IProgress{T}.Report"/> is
    /// called on the training thread; <see cref="Progress{T}"/> then posts its handler to the
    /// <see cref="SynchronizationContext"/> captured when it was created (the thread pool when there was none), so the
    /// handler runs later, possibly on another thread, and <see cref="StepInfo.ReadMeanLoss"/> is <c>null</c> in it. For
    /// work on the training thread, during the step (a console display, reading the loss), add an
    /// <see cref="IDistillationCallback"/> to <see cref="Callbacks"/>, such as <see cref="ConsoleProgress"/>.
    /// </summary>
    public IProgress<StepInfo>? Progress { get; set; }

    /// <summary>
    /// Models evaluated with the participants but not trained as participants: a view of a loss's own module (SOKD's
    /// knowledge bridge on the teacher's features), an ensemble of peers. Their names must differ from the participants'.
    /// </summary>
    public IList<IDistillationModel> EvaluationModels { get; } = new List<IDistillationModel>();

    /// <summary>
    /// The processes of a data-parallel run, or <c>null</c> (default) for one process. With a group of more than one rank,
    /// <see cref="Fit"/> and <see cref="Resume"/> first check that every rank has the same setup (participants and their
    /// tensor shapes, stages, options, data sizes; otherwise every rank throws before any step), take the participants'
    /// and loss modules' state from rank 0, give each rank its part of every batch (the training source must be an
    /// <see cref="IShardableBatchSource"/>: <see cref="DataLoader"/>, <see cref="DataPipeline"/>), average the gradients of every trained
    /// participant and loss module after each backward pass (<see cref="DistillerOptions.GradientBucketBytes"/>), record
    /// each epoch's loss, parts and training metrics over all ranks, and let only rank 0 write checkpoints (at epoch ends;
    /// not on cancellation). Batch-norm statistics and loss state (memory banks, queues) stay per rank: see docs/scaling.md.
    /// <c>KnowledgeDistillation.Distributed</c> provides an MPI group.
    /// </summary>
    public IProcessGroup? ProcessGroup { get; set; }

    /// <summary>The participants.</summary>
    public IReadOnlyList<IDistillationModel> Participants => _participants;

    /// <summary>The stages.</summary>
    public IReadOnlyList<DistillationStage> Stages => _stages;

    /// <summary>The settings.</summary>
    public DistillerOptions Options => _options;

    /// <summary>
    /// Trains every stage in order. Participants and loss modules are moved to <see cref="DistillerOptions.Device"/>;
    /// each step runs inside a dispose scope, so no tensor outlives its step. With
    /// <see cref="DistillerOptions.Checkpoint"/> set, a checkpoint is written atomically after epochs and when
    /// cancellation is noticed, and <see cref="Resume"/> continues from it. A checkpoint already at that path when the
    /// call starts is never replaced unless <see cref="CheckpointOptions.Overwrite"/> says so.
    /// </summary>
    /// <param name="train">Training batches.</param>
    /// <param name="evaluation">Evaluation batches, or <c>null</c> to skip evaluation.</param>
    /// <param name="cancellationToken">Checked at every step boundary; cancellation throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The per-epoch history.</returns>
    /// <exception cref="ArgumentException">Invalid options, empty data, or labels outside a participant's classes.</exception>
    /// <exception cref="NonFiniteLossException">A loss was NaN or infinite under <see cref="NonFiniteLossPolicy.Throw"/>.</exception>
    /// <exception cref="InvalidOperationException">A checkpoint this call did not write lies at the checkpoint path and <see cref="CheckpointOptions.Overwrite"/> is false.</exception>
    public FitResult Fit(IBatchSource train, IBatchSource? evaluation = null, CancellationToken cancellationToken = default) =>
        Run(train, evaluation, null, cancellationToken);

    /// <summary>
    /// Continues a run from a checkpoint written by <see cref="Fit"/> with the same participants, stages and
    /// data. On the CPU with a fixed seed the continued run reproduces the uninterrupted run's losses exactly.
    /// A finished run continues to a larger epoch count: give its last stage more epochs (<see cref="DistillationStage.Epochs"/>,
    /// or <see cref="DistillerOptions.Epochs"/> for a stage without its own) and exactly the extra epochs are trained; the
    /// first new record carries <see cref="EpochRecord.ContinuedFromEpochs"/>. Resuming a finished run with the same epochs
    /// trains nothing, logs a warning and sets <see cref="FitResult.AlreadyComplete"/>.
    /// </summary>
    /// <param name="checkpointPath">The checkpoint file.</param>
    /// <param name="train">Training batches (the same source as the interrupted run).</param>
    /// <param name="evaluation">Evaluation batches, or <c>null</c>.</param>
    /// <param name="cancellationToken">Checked at every step boundary.</param>
    /// <returns>The whole history, the checkpoint's epochs included.</returns>
    /// <exception cref="InvalidDataException">The file is not a usable checkpoint, belongs to a different setup, or holds a finished run with more epochs than this run sets.</exception>
    /// <exception cref="InvalidOperationException">Another checkpoint lies at the checkpoint path and <see cref="CheckpointOptions.Overwrite"/> is false.</exception>
    public FitResult Resume(string checkpointPath, IBatchSource train, IBatchSource? evaluation = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        return Run(train, evaluation, checkpointPath, cancellationToken);
    }

    /// <summary>
    /// Evaluates the students, the trainable teachers and the teachers some stage trains (and frozen teachers when
    /// <see cref="DistillerOptions.EvaluateTeachers"/>), plus <see cref="EvaluationModels"/>, on <paramref name="data"/>.
    /// </summary>
    /// <param name="data">Evaluation batches.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>Participant name to (metric name to value).</returns>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Evaluate(IBatchSource data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var threads = ThreadSetting.Apply(_options.Threads);
        MklCpuDispatch.Apply(_logger);
        NativeAllocatorTuning.Apply(_logger);
        var device = DeviceParser.Parse(_options.Device);
        LossRequirementsCheck.Capture(_participants, _stages); // declared features, also before any Fit (evaluation models read them)
        var models = _participants
            .Where(p => p is not ITeacher t || t.IsTrainable || _options.EvaluateTeachers || TrainedInSomeStage(p))
            .Concat(EvaluationModels)
            .ToArray();
        var clash = models.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new InvalidOperationException($"Two evaluated models are named '{clash.Key}'; give each evaluation model a name no participant has.");
        }

        return Evaluation.Run(models, data, device, Metrics.ToArray(), cancellationToken);
    }

    /// <summary>
    /// Disposes every stage's loss that holds native memory (its modules' hooks, per-sample stores): the distiller owns
    /// the losses it was given. Participants and their modules stay the caller's. Safe to call more than once.
    /// </summary>
    public void Dispose()
    {
        foreach (var loss in _stages.Select(s => s.Loss).Distinct().OfType<IDisposable>())
        {
            loss.Dispose();
        }
    }

    private FitResult Run(IBatchSource train, IBatchSource? evaluation, string? resumeFrom, CancellationToken cancellationToken)
    {
        ValidateData(train, evaluation);
        var dataParallel = new DataParallel(ProcessGroup, _options.GradientBucketBytes);
        var localTrain = Shard(train, dataParallel);
        using var threads = ThreadSetting.Apply(_options.Threads);
        MklCpuDispatch.Apply(_logger);
        NativeAllocatorTuning.Apply(_logger);
        ExistingCheckpointGuard.EnsureMayReplace(_options.Checkpoint, resumeFrom); // before anything moves or trains
        var device = DeviceParser.Parse(_options.Device);
        LossRequirementsCheck.ValidateAndCapture(_participants, _stages);
        var lossModules = new LossModuleSet(_stages);
        foreach (var module in _participants.Select(p => p.Module).Concat(lossModules.All).Concat(EvaluationModels.Select(m => m.Module)))
        {
            module.to(device);
        }

        dataParallel.CheckAgreement(SetupDescription.Of(_participants, _stages, _options, train, evaluation, resumeFrom));
        var clock = Stopwatch.StartNew();
        var state = new RunState(new CheckpointWriter(_participants, _stages, lossModules.All, Callbacks.OfType<ILossState>().ToArray())) { EvaluationClassCount = evaluation?.ClassCount };
        try
        {
            Start(state, resumeFrom, train.BatchCount, device);
            dataParallel.BroadcastFromRoot(_participants.Select(p => p.Module).Concat(lossModules.All));
            var loop = new EpochLoop(_options, _logger, Metrics.ToArray(), Callbacks.ToArray(), Progress, dataParallel);
            for (var stageIndex = state.Start.StageIndex; stageIndex < _stages.Count && !state.Control.StopRequested; stageIndex++)
            {
                lossModules.EnterStage(_stages[stageIndex]);
                RunStage(loop, stageIndex, localTrain, evaluation, state, device, dataParallel, cancellationToken);
            }
        }
        finally
        {
            lossModules.Restore();
        }

        var result = new FitResult(state.History, clock.Elapsed, state.Control.StopRequested)
        {
            AlreadyComplete = state.AlreadyComplete,
            EpochsTrained = state.History.Count - state.ResumedEpochs,
        };
        foreach (var callback in Callbacks)
        {
            callback.OnFitEnd(result);
        }

        return result;
    }

    /// <summary>This rank's part of the training data in a data-parallel run (the source itself in one process).</summary>
    private static IBatchSource Shard(IBatchSource train, DataParallel dataParallel)
    {
        if (!dataParallel.Enabled)
        {
            return train;
        }

        if (train is not IShardableBatchSource shardable)
        {
            throw new ArgumentException(
                $"A data-parallel run splits every training batch across its {dataParallel.Size} ranks, but the training source ({train.GetType().Name}) " +
                $"does not implement {nameof(IShardableBatchSource)}. Use a {nameof(DataLoader)} or {nameof(DataPipeline)}, or implement the interface.", nameof(train));
        }

        return shardable.Shard(dataParallel.Rank, dataParallel.Size);
    }

    private void ValidateData(IBatchSource train, IBatchSource? evaluation)
    {
        ArgumentNullException.ThrowIfNull(train);
        _options.Validate();
        if (train.SampleCount == 0 || train.BatchCount == 0)
        {
            throw new ArgumentException("The training data is empty.", nameof(train));
        }

        if (evaluation is not null && evaluation.SampleCount == 0)
        {
            throw new ArgumentException("The evaluation data is empty.", nameof(evaluation));
        }

        if (ProcessGroup is { Size: > 1 } && _options.NonFiniteLoss == NonFiniteLossPolicy.Skip)
        {
            throw new ArgumentException(
                "NonFiniteLoss = Skip cannot be used in a data-parallel run: one rank skipping a step while the others average gradients would " +
                "desynchronise them. Use Throw.", "options");
        }

        AugmentedCacheCheck.Check(_participants, train);
    }

    /// <summary>Seeds a fresh run, or restores a checkpoint's weights, state, position and history.</summary>
    private void Start(RunState state, string? resumeFrom, int batchesPerEpoch, Device device)
    {
        if (resumeFrom is null)
        {
            if (_options.Seed is { } seed)
            {
                random.manual_seed(seed);
            }

            return;
        }

        var saved = state.Checkpoints.Load(resumeFrom, _stages.Select(s => s.Epochs ?? _options.Epochs).ToArray(), batchesPerEpoch, stageIndex => new StageRun(_stages[stageIndex], _participants, _options, device), out var run, out var optimizers);
        state.Start = state.Position = new TrainingPosition(saved.StageIndex, saved.Epoch, saved.BatchInEpoch, saved.Step, saved.DataEpoch);
        state.History.AddRange(saved.History);
        state.Partial = saved.Partial;
        state.Resumed = run is null ? null : (run, optimizers);
        state.ResumedEpochs = saved.History.Count;
        LogResume(resumeFrom, saved, state);
    }

    private void LogResume(string file, CheckpointState saved, RunState state)
    {
        var last = _stages[^1];
        var lastEpochs = last.Epochs ?? _options.Epochs;
        if (saved.ContinuedFromEpochs is { } done)
        {
            state.ContinuedFrom = done;
            _logger.LogInformation(
                "Continuing the finished run in {File}: stage {Stage} from {Done} to {Epochs} epoch(s)", file, last.Name, done, lastEpochs);
            if (saved.Optimizer is null)
            {
                _logger.LogWarning(
                    "{File} holds no optimiser state for stage {Stage} (written by an earlier version): the continuation starts with fresh optimiser state", file, last.Name);
            }
        }
        else if (saved.StageIndex == _stages.Count)
        {
            state.AlreadyComplete = true;
            _logger.LogWarning(
                "The run in {File} already finished all {Epochs} epoch(s) of its last stage {Stage}: nothing to train. " +
                "To train more epochs, raise that stage's epochs (DistillationStage.Epochs, or DistillerOptions.Epochs) and Resume again",
                file, lastEpochs, last.Name);
        }
        else
        {
            _logger.LogInformation(
                "Resuming from {File}: stage {Stage}, epoch {Epoch}, batch {Batch}", file, _stages[saved.StageIndex].Name, saved.Epoch + 1, saved.BatchInEpoch);
        }
    }

    private void RunStage(EpochLoop loop, int stageIndex, IBatchSource train, IBatchSource? evaluation, RunState state, Device device, DataParallel dataParallel, CancellationToken cancellationToken)
    {
        var stage = _stages[stageIndex];
        var resumed = stageIndex == state.Start.StageIndex ? state.Resumed : null;
        var run = resumed?.Run ?? new StageRun(stage, _participants, _options, device);
        using var optimizers = resumed?.Optimizers ?? run.CreateOptimizers();
        var continuesStage = resumed is not null && (state.Start.Epoch > 0 || state.Start.BatchInEpoch > 0);
        foreach (var callback in Callbacks)
        {
            if (continuesStage)
            {
                callback.OnStageResumed(stage);
            }
            else
            {
                callback.OnStageStart(stage);
            }
        }

        _logger.LogInformation(
            "Stage {Stage}: {Epochs} epoch(s), training {Trainable} on {Device}",
            stage.Name, run.Epochs, string.Join(", ", run.Trainable.Select(p => p.Name)), device);
        var firstEpoch = stageIndex == state.Start.StageIndex ? state.Start.Epoch : 0;
        for (var epoch = firstEpoch; epoch < run.Epochs && !state.Control.StopRequested; epoch++)
        {
            var record = RunEpoch(loop, run, optimizers, train, evaluation, stageIndex, epoch, state, cancellationToken);
            if (state.ContinuedFrom is { } continuedFrom)
            {
                record = record with { ContinuedFromEpochs = continuedFrom };
                state.ContinuedFrom = null;
            }

            state.History.Add(record);
            Log(record, run.Epochs);
            foreach (var callback in Callbacks)
            {
                callback.OnEpochEnd(record, state.Control);
            }

            var stageStopped = state.Control.StageStopRequested && !state.Control.StopRequested && epoch < run.Epochs - 1;
            if (stageStopped)
            {
                state.History[^1] = state.History[^1] with { EndedStage = true };
            }

            var last = epoch == run.Epochs - 1 || stageStopped;
            var step = state.Position.Step;
            var dataEpoch = state.Position.DataEpoch;
            state.Position = last ? new TrainingPosition(stageIndex + 1, 0, 0, step, dataEpoch) : new TrainingPosition(stageIndex, epoch + 1, 0, step, dataEpoch);
            if (_options.Checkpoint.FilePath is { } file && (last || state.Control.StopRequested || (epoch + 1) % _options.Checkpoint.EveryEpochs == 0))
            {
                // The last stage keeps its optimiser state after its last epoch, so a finished run can be continued exactly.
                // In a data-parallel run rank 0 writes (every rank holds the same weights) and the others wait for the file.
                if (dataParallel.IsRoot)
                {
                    state.Checkpoints.Write(file, state.Position, state.History, null, last && stageIndex < _stages.Count - 1 ? null : optimizers);
                }

                dataParallel.Barrier();
            }

            if (stageStopped)
            {
                _logger.LogInformation("Stage {Stage} ended early after epoch {Epoch}: {Reason}", stage.Name, epoch + 1, state.Control.StageStopReason);
                break;
            }
        }

        state.Control.ClearStageStop();
        if (state.Control.StopRequested)
        {
            _logger.LogInformation("Training stopped early: {Reason}", state.Control.Reason);
        }
    }

    private EpochRecord RunEpoch(EpochLoop loop, StageRun run, OptimizerSet optimizers, IBatchSource train, IBatchSource? evaluation, int stageIndex, int epoch, RunState state, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var learningRate = run.Schedule.RateAt(run.OptimizerOptions.LearningRate, epoch, run.Epochs);
        optimizers.SetLearningRates(run.Schedule, epoch, run.Epochs);
        using var sums = loop.Train(run, optimizers, train, stageIndex, epoch, state, cancellationToken);
        var evaluated = evaluation is not null && ((epoch + 1) % _options.EvaluateEveryEpochs == 0 || epoch == run.Epochs - 1)
            ? Evaluate(evaluation, cancellationToken)
            : new Dictionary<string, IReadOnlyDictionary<string, double>>();
        run.SetModes();
        return sums.ToRecord(run.Stage.Name, epoch, learningRate, clock.Elapsed, evaluated) with { StageEpochs = run.Epochs };
    }

    private void Log(EpochRecord record, int epochs)
    {
        if (!_logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        var parts = string.Join(", ", record.LossParts.Select(p => $"{p.Key}={p.Value:F4}"));
        var eval = string.Join(", ", record.EvalMetrics.SelectMany(p => p.Value.Select(m => $"{p.Key}.{m.Key}={m.Value:F4}")));
        _logger.LogInformation(
            "Stage {Stage} epoch {Epoch}/{Epochs}: loss {Loss:F4} ({Parts}); lr {LearningRate:G4}; eval {Eval}; {Seconds:F1}s",
            record.Stage, record.Epoch + 1, epochs, record.Loss, parts, record.LearningRate, eval.Length == 0 ? "-" : eval, record.Duration.TotalSeconds);
    }

    private bool TrainedInSomeStage(IDistillationModel participant) =>
        _stages.Any(s => s.Trainable?.Contains(participant.Name) == true);

    private void ValidateSetup()
    {
        if (_participants.Count == 0)
        {
            throw new ArgumentException("A run needs at least one participant.", "participants");
        }

        if (_participants.Any(p => p is null))
        {
            throw new ArgumentException("A participant is null.", "participants");
        }

        var duplicate = _participants.GroupBy(p => p.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Two participants are named '{duplicate.Key}'; names must be unique.", "participants");
        }

        if (_stages.Count == 0)
        {
            throw new ArgumentException("A run needs at least one stage.", "stages");
        }

        if (_stages.Any(s => s is null))
        {
            throw new ArgumentException("A stage is null.", "stages");
        }

        var duplicateStage = _stages.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicateStage is not null)
        {
            throw new ArgumentException($"Two stages are named '{duplicateStage.Key}'; names must be unique.", "stages");
        }

        var names = _participants.Select(p => p.Name).ToHashSet();
        foreach (var stage in _stages)
        {
            foreach (var name in (stage.Trainable ?? Array.Empty<string>()).Concat(stage.Active ?? Array.Empty<string>()))
            {
                if (!names.Contains(name))
                {
                    throw new ArgumentException(
                        $"Stage '{stage.Name}' names participant '{name}', which does not exist. Participants: {string.Join(", ", names)}.", "stages");
                }
            }

            if (stage.Epochs is < 1)
            {
                throw new ArgumentOutOfRangeException("stages", stage.Epochs, $"Stage '{stage.Name}' must run >= 1 epoch.");
            }
        }
    }
}
