using System.Diagnostics;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Internal;
using KnowledgeDistillation.Metrics;
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
public sealed class Distiller
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

    /// <summary>Callbacks invoked during <see cref="Fit"/>.</summary>
    public IList<IDistillationCallback> Callbacks { get; } = new List<IDistillationCallback>();

    /// <summary>Metric factories used for training and evaluation metrics (default: top-1 accuracy).</summary>
    public IList<Func<IMetric>> Metrics { get; } = new List<Func<IMetric>> { () => new Accuracy() };

    /// <summary>Receives a report after every step (nothing is read from the device for it).</summary>
    public IProgress<StepInfo>? Progress { get; set; }

    /// <summary>
    /// Models evaluated with the participants but not trained as participants: a view of a loss's own module (SOKD's
    /// knowledge bridge on the teacher's features), an ensemble of peers. Their names must differ from the participants'.
    /// </summary>
    public IList<IDistillationModel> EvaluationModels { get; } = new List<IDistillationModel>();

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
    /// cancellation is noticed, and <see cref="Resume"/> continues from it.
    /// </summary>
    /// <param name="train">Training batches.</param>
    /// <param name="evaluation">Evaluation batches, or <c>null</c> to skip evaluation.</param>
    /// <param name="cancellationToken">Checked at every step boundary; cancellation throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The per-epoch history.</returns>
    /// <exception cref="ArgumentException">Invalid options, empty data, or labels outside a participant's classes.</exception>
    /// <exception cref="NonFiniteLossException">A loss was NaN or infinite under <see cref="NonFiniteLossPolicy.Throw"/>.</exception>
    public FitResult Fit(IBatchSource train, IBatchSource? evaluation = null, CancellationToken cancellationToken = default) =>
        Run(train, evaluation, null, cancellationToken);

    /// <summary>
    /// Continues a run from a checkpoint written by <see cref="Fit"/> with the same participants, stages and
    /// data. On the CPU with a fixed seed the continued run reproduces the uninterrupted run's losses exactly.
    /// </summary>
    /// <param name="checkpointPath">The checkpoint file.</param>
    /// <param name="train">Training batches (the same source as the interrupted run).</param>
    /// <param name="evaluation">Evaluation batches, or <c>null</c>.</param>
    /// <param name="cancellationToken">Checked at every step boundary.</param>
    /// <returns>The whole history, the checkpoint's epochs included.</returns>
    /// <exception cref="InvalidDataException">The file is not a usable checkpoint, or belongs to a different setup.</exception>
    public FitResult Resume(string checkpointPath, IBatchSource train, IBatchSource? evaluation = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        return Run(train, evaluation, checkpointPath, cancellationToken);
    }

    /// <summary>Evaluates the students and trainable teachers (and frozen teachers when <see cref="DistillerOptions.EvaluateTeachers"/>) on <paramref name="data"/>.</summary>
    /// <param name="data">Evaluation batches.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>Participant name to (metric name to value).</returns>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Evaluate(IBatchSource data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var device = DeviceParser.Parse(_options.Device);
        var models = _participants
            .Where(p => p is not ITeacher t || t.IsTrainable || _options.EvaluateTeachers)
            .Concat(EvaluationModels)
            .ToArray();
        var clash = models.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null)
        {
            throw new InvalidOperationException($"Two evaluated models are named '{clash.Key}'; give each evaluation model a name no participant has.");
        }

        return Evaluation.Run(models, data, device, Metrics.ToArray(), cancellationToken);
    }

    private FitResult Run(IBatchSource train, IBatchSource? evaluation, string? resumeFrom, CancellationToken cancellationToken)
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

        var device = DeviceParser.Parse(_options.Device);
        var lossModules = LossModules();
        foreach (var module in _participants.Select(p => p.Module).Concat(lossModules).Concat(EvaluationModels.Select(m => m.Module)))
        {
            module.to(device);
        }

        var clock = Stopwatch.StartNew();
        var control = new TrainingControl();
        var checkpoints = new CheckpointWriter(_participants, _stages, lossModules);
        var position = TrainingPosition.Start;
        var history = new List<EpochRecord>();
        EpochProgress? partial = null;
        StageRun? resumedRun = null;
        OptimizerSet? resumedOptimizer = null;
        if (resumeFrom is not null)
        {
            var state = checkpoints.Load(resumeFrom, stageIndex => new StageRun(_stages[stageIndex], _participants, _options, device), out resumedRun, out resumedOptimizer);
            position = new TrainingPosition(state.StageIndex, state.Epoch, state.BatchInEpoch, state.Step, state.DataEpoch);
            history.AddRange(state.History);
            partial = state.Partial;
            _logger.LogInformation(
                "Resuming from {File}: stage {Stage}, epoch {Epoch}, batch {Batch}",
                resumeFrom, state.StageIndex < _stages.Count ? _stages[state.StageIndex].Name : "(finished)", state.Epoch + 1, state.BatchInEpoch);
        }
        else if (_options.Seed is { } seed)
        {
            random.manual_seed(seed);
        }

        var checkedClasses = false;
        var start = position;
        for (var stageIndex = start.StageIndex; stageIndex < _stages.Count && !control.StopRequested; stageIndex++)
        {
            var stage = _stages[stageIndex];
            var resuming = stageIndex == start.StageIndex && resumedRun is not null;
            var run = resuming ? resumedRun! : new StageRun(stage, _participants, _options, device);
            using var optimizer = resuming && resumedOptimizer is not null ? resumedOptimizer : run.CreateOptimizers();
            foreach (var callback in Callbacks)
            {
                callback.OnStageStart(stage);
            }

            _logger.LogInformation(
                "Stage {Stage}: {Epochs} epoch(s), training {Trainable} on {Device}",
                stage.Name, run.Epochs, string.Join(", ", run.Trainable.Select(p => p.Name)), device);
            var firstEpoch = stageIndex == start.StageIndex ? start.Epoch : 0;
            for (var epoch = firstEpoch; epoch < run.Epochs && !control.StopRequested; epoch++)
            {
                var startBatch = stageIndex == start.StageIndex && epoch == start.Epoch ? start.BatchInEpoch : 0;
                var record = RunEpoch(run, optimizer, train, evaluation, stageIndex, epoch, startBatch, partial, ref position, ref checkedClasses, checkpoints, history, cancellationToken);
                partial = null;
                history.Add(record);
                Log(record, run.Epochs);
                foreach (var callback in Callbacks)
                {
                    callback.OnEpochEnd(record, control);
                }

                var last = epoch == run.Epochs - 1;
                position = last
                    ? new TrainingPosition(stageIndex + 1, 0, 0, position.Step, position.DataEpoch)
                    : new TrainingPosition(stageIndex, epoch + 1, 0, position.Step, position.DataEpoch);
                if (_options.Checkpoint.FilePath is { } file && (last || control.StopRequested || (epoch + 1) % _options.Checkpoint.EveryEpochs == 0))
                {
                    checkpoints.Write(file, position, history, null, last ? null : optimizer);
                }
            }

            if (control.StopRequested)
            {
                _logger.LogInformation("Training stopped early: {Reason}", control.Reason);
            }
        }

        var result = new FitResult(history, clock.Elapsed, control.StopRequested);
        foreach (var callback in Callbacks)
        {
            callback.OnFitEnd(result);
        }

        return result;
    }

    private EpochRecord RunEpoch(
        StageRun run,
        OptimizerSet optimizer,
        IBatchSource train,
        IBatchSource? evaluation,
        int stageIndex,
        int epoch,
        int startBatch,
        EpochProgress? partial,
        ref TrainingPosition position,
        ref bool checkedClasses,
        CheckpointWriter checkpoints,
        List<EpochRecord> history,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var learningRate = run.Schedule.RateAt(run.OptimizerOptions.LearningRate, epoch, run.Epochs);
        optimizer.SetLearningRates(run.Schedule, epoch, run.Epochs);

        run.SetModes();
        using var sums = new EpochAccumulator(run.Trainable, Metrics);
        if (partial is not null)
        {
            sums.Restore(partial, run.Device);
        }

        // The data epoch counts epochs over all stages, so each epoch of the run sees its own shuffle.
        var dataEpoch = position.DataEpoch;
        var step = position.Step;
        var batchesPerEpoch = train.BatchCount;
        var everyStep = _options.NonFiniteCheck == NonFiniteCheck.EveryStep;
        using (var batches = train.GetBatches(dataEpoch, run.Device).GetEnumerator())
        {
            for (var batchIndex = 0; ; batchIndex++)
            {
                if (batchIndex >= startBatch && cancellationToken.IsCancellationRequested)
                {
                    if (_options.Checkpoint.OnCancel && _options.Checkpoint.FilePath is { } file)
                    {
                        var here = new TrainingPosition(stageIndex, epoch, batchIndex, step, dataEpoch);
                        checkpoints.Write(file, here, history, sums.ToProgress(), optimizer);
                        _logger.LogInformation("Cancelled at stage {Stage}, epoch {Epoch}, batch {Batch}; checkpoint written to {File}", run.Stage.Name, epoch + 1, batchIndex, file);
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                }

                using var scope = NewDisposeScope();
                if (!batches.MoveNext())
                {
                    break;
                }

                if (batchIndex < startBatch)
                {
                    continue;
                }

                var batch = batches.Current;
                var sequential = run.Stage.UpdateOrder == ParticipantUpdateOrder.Sequential && run.Trainable.Count > 1;
                var outputs = sequential ? run.Forward(batch, run.Trainable[0], null) : run.Forward(batch);
                if (!checkedClasses)
                {
                    CheckClassCounts(train, outputs);
                    checkedClasses = true;
                }

                var context = new DistillationContext(batch, outputs, run.Stage.Name, epoch, step, isTraining: true);
                var loss = run.Stage.Loss.Compute(context);
                if (!Finite(run, loss, epoch, step, everyStep, sums))
                {
                    continue;
                }

                if (sequential)
                {
                    StepSequentially(run, optimizer, batch, outputs, loss, epoch, step, everyStep, sums);
                }
                else
                {
                    optimizer.ZeroGrad();
                    loss.Total.backward();
                    Clip(run.Parameters);
                    optimizer.Step();
                    sums.Add(loss, outputs, batch);
                }

                var info = new StepInfo(run.Stage.Name, epoch, step, batchIndex, batchesPerEpoch);
                step++;
                Progress?.Report(info);
                foreach (var callback in Callbacks)
                {
                    callback.OnStepEnd(info);
                }
            }
        }

        if (!everyStep && sums.FirstNonFiniteStep() is { } badStep)
        {
            throw new NonFiniteLossException(run.Stage.Name, epoch, badStep, new Dictionary<string, double>());
        }

        position = new TrainingPosition(stageIndex, epoch, 0, step, dataEpoch + 1);
        var evaluated = evaluation is not null && ((epoch + 1) % _options.EvaluateEveryEpochs == 0 || epoch == run.Epochs - 1)
            ? Evaluate(evaluation, cancellationToken)
            : new Dictionary<string, IReadOnlyDictionary<string, double>>();
        run.SetModes();
        return sums.ToRecord(run.Stage.Name, epoch, learningRate, clock.Elapsed, evaluated);
    }

    /// <summary>
    /// <see cref="ParticipantUpdateOrder.Sequential"/>: the first turn uses the step's outputs and loss (recorded for the
    /// epoch's loss and metrics); each later participant's turn recomputes the outputs after the earlier updates, with a
    /// graph only for itself. The loss's own modules step in the last turn.
    /// </summary>
    private void StepSequentially(
        StageRun run,
        OptimizerSet optimizer,
        Batch batch,
        IReadOnlyDictionary<string, ModelOutput> firstOutputs,
        LossResult firstLoss,
        int epoch,
        long step,
        bool everyStep,
        EpochAccumulator sums)
    {
        for (var turn = 0; turn < run.Trainable.Count; turn++)
        {
            var participant = run.Trainable[turn];
            var last = turn == run.Trainable.Count - 1;
            var loss = firstLoss;
            if (turn > 0)
            {
                var outputs = run.Forward(batch, participant, firstOutputs);
                loss = run.Stage.Loss.Compute(new DistillationContext(batch, outputs, run.Stage.Name, epoch, step, isTraining: true));
                if (!Finite(run, loss, epoch, step, everyStep, sums, countSkip: false))
                {
                    return;
                }
            }
            else
            {
                // The first turn's outputs (graph for this participant only) are the step's recorded outputs.
                sums.Add(firstLoss, firstOutputs, batch);
            }

            optimizer.ZeroGrad();
            loss.Total.backward();
            if (_options.MaxGradNorm is not null)
            {
                var owned = optimizer.ParametersOf(participant.Name);
                Clip(last ? owned.Concat(optimizer.ParametersOf(DistillationStage.LossModulesOwner)).ToArray() : owned);
            }

            optimizer.Step(participant.Name);
            if (last)
            {
                optimizer.Step(DistillationStage.LossModulesOwner);
            }
        }
    }

    /// <summary>Applies the non-finite policy; false when the batch is skipped.</summary>
    private bool Finite(StageRun run, LossResult loss, int epoch, long step, bool everyStep, EpochAccumulator sums, bool countSkip = true)
    {
        if (!everyStep)
        {
            sums.TrackNonFinite(loss.Total, step);
            return true;
        }

        if (isfinite(loss.Total.detach()).all().item<bool>())
        {
            return true;
        }

        var values = loss.Parts.ToDictionary(p => p.Key, p => p.Value.detach().to(ScalarType.Float64).sum().item<double>());
        if (_options.NonFiniteLoss == NonFiniteLossPolicy.Throw)
        {
            throw new NonFiniteLossException(run.Stage.Name, epoch, step, values);
        }

        _logger.LogWarning("Skipped a batch with a non-finite loss in stage {Stage}, epoch {Epoch}, step {Step}", run.Stage.Name, epoch, step);
        if (countSkip)
        {
            sums.Skip();
        }

        return false;
    }

    private void Clip(IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
    {
        if (_options.MaxGradNorm is { } maxNorm && parameters.Count > 0)
        {
            nn.utils.clip_grad_norm_(parameters, maxNorm);
        }
    }

    private IReadOnlyList<nn.Module> LossModules() => _stages.SelectMany(s => s.Loss.TrainableModules).Distinct().ToArray();

    private static void CheckClassCounts(IBatchSource train, IReadOnlyDictionary<string, ModelOutput> outputs)
    {
        if (train.ClassCount is not { } classes)
        {
            return;
        }

        foreach (var (name, output) in outputs)
        {
            if (output.Logits is { } logits && logits.dim() == 2 && logits.shape[1] < classes)
            {
                throw new ArgumentException(
                    $"The training data has class labels 0..{classes - 1} ({classes} classes), but participant '{name}' outputs " +
                    $"{logits.shape[1]} logits. Give the model {classes} outputs or fix the labels.",
                    nameof(train));
            }
        }
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
