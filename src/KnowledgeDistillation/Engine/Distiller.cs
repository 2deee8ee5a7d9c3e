using System.Diagnostics;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// The training engine: runs participants, computes the stage's loss, back-propagates and updates every
/// trainable parameter (students, trainable teachers, the loss's own modules), evaluates, logs and calls
/// callbacks. Nothing method-specific lives here: a method is participants + a loss + stages.
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

    /// <summary>The participants.</summary>
    public IReadOnlyList<IDistillationModel> Participants => _participants;

    /// <summary>The stages.</summary>
    public IReadOnlyList<DistillationStage> Stages => _stages;

    /// <summary>
    /// Trains every stage in order. Participants and loss modules are moved to <see cref="DistillerOptions.Device"/>;
    /// each step runs inside a dispose scope, so no tensor outlives its step.
    /// </summary>
    /// <param name="train">Training batches.</param>
    /// <param name="evaluation">Evaluation batches, or <c>null</c> to skip evaluation.</param>
    /// <param name="cancellationToken">Checked at every step boundary; cancellation throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>The per-epoch history.</returns>
    /// <exception cref="ArgumentException">Invalid options, empty data, or labels outside a participant's classes.</exception>
    /// <exception cref="NonFiniteLossException">A loss was NaN or infinite under <see cref="NonFiniteLossPolicy.Throw"/>.</exception>
    public FitResult Fit(IBatchSource train, IBatchSource? evaluation = null, CancellationToken cancellationToken = default)
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
        if (_options.Seed is { } seed)
        {
            random.manual_seed(seed);
        }

        foreach (var module in _participants.Select(p => p.Module).Concat(_stages.SelectMany(s => s.Loss.TrainableModules)).Distinct())
        {
            module.to(device);
        }

        var clock = Stopwatch.StartNew();
        var history = new List<EpochRecord>();
        var control = new TrainingControl();
        var step = 0L;
        var dataEpoch = 0;
        var checkedClasses = false;
        foreach (var stage in _stages)
        {
            var run = new StageRun(this, stage, device);
            foreach (var callback in Callbacks)
            {
                callback.OnStageStart(stage);
            }

            _logger.LogInformation(
                "Stage {Stage}: {Epochs} epoch(s), training {Trainable} on {Device}",
                stage.Name, run.Epochs, string.Join(", ", run.Trainable.Select(p => p.Name)), device);
            using var optimizer = run.CreateOptimizer();
            for (var epoch = 0; epoch < run.Epochs && !control.StopRequested; epoch++)
            {
                var record = RunEpoch(run, optimizer, train, evaluation, epoch, dataEpoch++, ref step, ref checkedClasses, cancellationToken);
                history.Add(record);
                Log(record, run.Epochs);
                foreach (var callback in Callbacks)
                {
                    callback.OnEpochEnd(record, control);
                }
            }

            if (control.StopRequested)
            {
                _logger.LogInformation("Training stopped early: {Reason}", control.Reason);
                break;
            }
        }

        var result = new FitResult(history, clock.Elapsed, control.StopRequested);
        foreach (var callback in Callbacks)
        {
            callback.OnFitEnd(result);
        }

        return result;
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
            .ToArray();
        return Evaluation.Run(models, data, device, Metrics.ToArray(), cancellationToken);
    }

    private EpochRecord RunEpoch(
        StageRun run,
        optim.Optimizer optimizer,
        IBatchSource train,
        IBatchSource? evaluation,
        int epoch,
        int dataEpoch,
        ref long step,
        ref bool checkedClasses,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var learningRate = run.Schedule.RateAt(run.OptimizerOptions.LearningRate, epoch, run.Epochs);
        foreach (var group in optimizer.ParamGroups)
        {
            group.LearningRate = learningRate;
        }

        run.SetModes();
        var parts = new Dictionary<string, Tensor>();
        Tensor? totalSum = null;
        var trainMetrics = run.Trainable.ToDictionary(p => p.Name, _ => Metrics.Select(f => f()).ToArray());
        var steps = 0;
        var skipped = 0;
        var batchesPerEpoch = train.BatchCount;
        try
        {
            using var batches = train.GetBatches(dataEpoch, run.Device).GetEnumerator();
            for (var batchIndex = 0; ; batchIndex++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                if (!batches.MoveNext())
                {
                    break;
                }

                var batch = batches.Current;
                var outputs = run.Forward(batch);
                if (!checkedClasses)
                {
                    CheckClassCounts(train, outputs);
                    checkedClasses = true;
                }

                var context = new DistillationContext(batch, outputs, run.Stage.Name, epoch, step, isTraining: true);
                var loss = run.Stage.Loss.Compute(context);
                if (!isfinite(loss.Total).all().item<bool>())
                {
                    var values = loss.Parts.ToDictionary(p => p.Key, p => p.Value.detach().to(ScalarType.Float64).sum().item<double>());
                    if (_options.NonFiniteLoss == NonFiniteLossPolicy.Throw)
                    {
                        throw new NonFiniteLossException(run.Stage.Name, epoch, step, values);
                    }

                    _logger.LogWarning("Skipped a batch with a non-finite loss in stage {Stage}, epoch {Epoch}, step {Step}", run.Stage.Name, epoch, step);
                    skipped++;
                    continue;
                }

                optimizer.zero_grad();
                loss.Total.backward();
                if (_options.MaxGradNorm is { } maxNorm)
                {
                    nn.utils.clip_grad_norm_(run.Parameters, maxNorm);
                }

                optimizer.step();
                Accumulate(ref totalSum, loss.Total);
                foreach (var (name, value) in loss.Parts)
                {
                    parts.TryGetValue(name, out var sum);
                    Accumulate(ref sum, value);
                    parts[name] = sum!;
                }

                foreach (var participant in run.Trainable)
                {
                    foreach (var metric in trainMetrics[participant.Name])
                    {
                        metric.Update(outputs[participant.Name], batch);
                    }
                }

                var info = new StepInfo(run.Stage.Name, epoch, step, batchIndex, batchesPerEpoch);
                step++;
                steps++;
                foreach (var callback in Callbacks)
                {
                    callback.OnStepEnd(info);
                }
            }

            var evaluated = evaluation is not null && ((epoch + 1) % _options.EvaluateEveryEpochs == 0 || epoch == run.Epochs - 1)
                ? Evaluate(evaluation, cancellationToken)
                : new Dictionary<string, IReadOnlyDictionary<string, double>>();
            run.SetModes();
            return new EpochRecord
            {
                Stage = run.Stage.Name,
                Epoch = epoch,
                Steps = steps,
                SkippedSteps = skipped,
                Loss = Mean(totalSum, steps),
                LossParts = parts.ToDictionary(p => p.Key, p => Mean(p.Value, steps)),
                TrainMetrics = trainMetrics.ToDictionary(
                    p => p.Key,
                    p => (IReadOnlyDictionary<string, double>)p.Value
                        .Select(m => (m.Name, Value: m.Compute()))
                        .Where(m => !double.IsNaN(m.Value))
                        .ToDictionary(m => m.Name, m => m.Value)),
                EvalMetrics = evaluated,
                LearningRate = learningRate,
                Duration = clock.Elapsed,
            };
        }
        finally
        {
            totalSum?.Dispose();
            foreach (var sum in parts.Values)
            {
                sum.Dispose();
            }

            foreach (var metric in trainMetrics.Values.SelectMany(m => m))
            {
                metric.Dispose();
            }
        }
    }

    private static void Accumulate(ref Tensor? sum, Tensor value)
    {
        var scalar = value.detach().to(ScalarType.Float64).sum();
        if (sum is null)
        {
            sum = scalar.clone().DetachFromDisposeScope();
        }
        else
        {
            sum.add_(scalar);
        }
    }

    private static double Mean(Tensor? sum, int steps) => sum is null || steps == 0 ? double.NaN : sum.item<double>() / steps;

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

        var duplicateStage = _stages.GroupBy(s => s?.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicateStage is not null)
        {
            throw new ArgumentException($"Two stages are named '{duplicateStage.Key}'; names must be unique.", "stages");
        }

        var names = _participants.Select(p => p.Name).ToHashSet();
        foreach (var stage in _stages)
        {
            ArgumentNullException.ThrowIfNull(stage, "stages");
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

    /// <summary>The resolved settings of one stage: who runs, who learns, with which optimiser.</summary>
    private sealed class StageRun
    {
        public StageRun(Distiller owner, DistillationStage stage, Device device)
        {
            Stage = stage;
            Device = device;
            Epochs = stage.Epochs ?? owner._options.Epochs;
            OptimizerOptions = stage.Optimizer ?? owner._options.Optimizer;
            Schedule = stage.LearningRateSchedule ?? owner._options.LearningRateSchedule;
            OptimizerOptions.Validate($"Stages[{stage.Name}].Optimizer");
            Schedule.Validate($"Stages[{stage.Name}].LearningRateSchedule");
            Active = stage.Active is null ? owner._participants : owner._participants.Where(p => stage.Active.Contains(p.Name)).ToArray();
            Trainable = stage.Trainable is null
                ? Active.Where(p => p is not ITeacher t || t.IsTrainable).ToArray()
                : Active.Where(p => stage.Trainable.Contains(p.Name)).ToArray();
            if (stage.Trainable is not null && Trainable.Count != stage.Trainable.Count)
            {
                throw new ArgumentException($"Stage '{stage.Name}' trains participants that are not active in it.", "stages");
            }

            LossModules = stage.Loss.TrainableModules;
            Parameters = Trainable.SelectMany(p => p.Module.parameters())
                .Concat(LossModules.SelectMany(m => m.parameters()))
                .Where(p => p.requires_grad)
                .Distinct()
                .ToArray();
            if (Parameters.Count == 0)
            {
                throw new InvalidOperationException(
                    $"Stage '{stage.Name}' has nothing to train: no student, trainable teacher or loss module with parameters that require gradients.");
            }
        }

        public DistillationStage Stage { get; }

        public Device Device { get; }

        public int Epochs { get; }

        public OptimizerOptions OptimizerOptions { get; }

        public LearningRateScheduleOptions Schedule { get; }

        public IReadOnlyList<IDistillationModel> Active { get; }

        public IReadOnlyList<IDistillationModel> Trainable { get; }

        public IReadOnlyList<nn.Module> LossModules { get; }

        public IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

        public optim.Optimizer CreateOptimizer()
        {
            var o = OptimizerOptions;
            return o.Kind switch
            {
                OptimizerKind.Adam => optim.Adam(Parameters, o.LearningRate, o.Beta1, o.Beta2, weight_decay: o.WeightDecay),
                OptimizerKind.AdamW => optim.AdamW(Parameters, o.LearningRate, o.Beta1, o.Beta2, weight_decay: o.WeightDecay),
                _ => optim.SGD(Parameters, o.LearningRate, o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Nesterov),
            };
        }

        public void SetModes()
        {
            foreach (var participant in Active)
            {
                participant.Module.train(Trainable.Contains(participant));
            }

            foreach (var module in LossModules)
            {
                module.train();
            }
        }

        public IReadOnlyDictionary<string, ModelOutput> Forward(Batch batch)
        {
            var outputs = new Dictionary<string, ModelOutput>(Active.Count);
            foreach (var participant in Active)
            {
                if (Trainable.Contains(participant))
                {
                    outputs[participant.Name] = participant.Forward(batch);
                }
                else
                {
                    using var noGrad = no_grad();
                    outputs[participant.Name] = participant.Forward(batch);
                }
            }

            return outputs;
        }
    }
}
