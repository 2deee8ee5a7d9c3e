using System.Diagnostics;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Metrics;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Runs one training epoch of a stage: batches in the data epoch's order, one dispose scope per step, the stage's update
/// strategy, the loss's step-end and epoch-end hooks, progress and callbacks, cancellation (with a checkpoint) at step
/// boundaries, and the epoch's record.
/// </summary>
internal sealed class EpochLoop
{
    private readonly DistillerOptions _options;
    private readonly ILogger _logger;
    private readonly IReadOnlyList<Func<IMetric>> _metrics;
    private readonly IReadOnlyList<IDistillationCallback> _callbacks;
    private readonly IProgress<StepInfo>? _progress;
    private readonly NonFiniteGuard _guard;
    private readonly IUpdateStrategy _simultaneous;
    private readonly IUpdateStrategy _sequential;
    private readonly StepLossReader _lossReader = new();
    private readonly DataParallel _dataParallel;

    public EpochLoop(DistillerOptions options, ILogger logger, IReadOnlyList<Func<IMetric>> metrics, IReadOnlyList<IDistillationCallback> callbacks, IProgress<StepInfo>? progress, DataParallel dataParallel)
    {
        _dataParallel = dataParallel;
        _options = options;
        _logger = logger;
        _metrics = metrics;
        _callbacks = callbacks;
        _progress = progress;
        _guard = new NonFiniteGuard(options, logger);
        var clipper = new GradientClipper(options.MaxGradNorm);
        _simultaneous = new SimultaneousUpdate(_guard, clipper, dataParallel);
        _sequential = new SequentialUpdate(_guard, clipper, dataParallel);
    }

    /// <summary>Trains one epoch and returns its sums (the caller evaluates and records); advances <paramref name="state"/>'s step and data epoch.</summary>
    public EpochAccumulator Train(StageRun run, OptimizerSet optimizers, IBatchSource train, int stageIndex, int epoch, RunState state, CancellationToken cancellationToken)
    {
        run.SetModes();
        var sums = new EpochAccumulator(run.Trainable, _metrics);
        try
        {
            if (state.Partial is { } partial)
            {
                sums.Restore(partial, run.Device);
                state.Partial = null;
            }

            RunBatches(run, optimizers, train, stageIndex, epoch, state, sums, cancellationToken);
            _guard.ThrowIfEpochHadNonFinite(run.Stage.Name, epoch, sums);
            sums.ReduceAcrossRanks(_dataParallel);
            run.Stage.Loss.OnEpochEnd(new LossEpochInfo(run.Stage.Name, epoch, state.Position.Step));
            return sums;
        }
        catch
        {
            sums.Dispose();
            throw;
        }
    }

    private void RunBatches(StageRun run, OptimizerSet optimizers, IBatchSource train, int stageIndex, int epoch, RunState state, EpochAccumulator sums, CancellationToken cancellationToken)
    {
        // The data epoch counts epochs over all stages, so each epoch of the run sees its own shuffle.
        var dataEpoch = state.Position.DataEpoch;
        var step = state.Position.Step;
        var startBatch = state.StartBatch(stageIndex, epoch);
        var strategy = run.Stage.UpdateOrder == ParticipantUpdateOrder.Sequential && run.Trainable.Count > 1 ? _sequential : _simultaneous;
        var firstOfStage = epoch == 0 && startBatch == 0;
        Action<IReadOnlyDictionary<string, ModelOutput>> inspect = outputs => CheckClassCounts(train, outputs, state);
        var clock = Stopwatch.StartNew();
        var samples = 0L;
        using (var batches = train.GetBatches(dataEpoch, run.Device).GetEnumerator())
        {
            for (var batchIndex = 0; ; batchIndex++)
            {
                if (batchIndex >= startBatch && cancellationToken.IsCancellationRequested)
                {
                    CheckpointOnCancel(run, optimizers, new TrainingPosition(stageIndex, epoch, batchIndex, step, dataEpoch), state, sums);
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

                if (firstOfStage)
                {
                    LossRequirementsCheck.CheckBatch(run.Stage, batches.Current);
                    firstOfStage = false;
                }

                var context = strategy.Step(new StepContext(run, optimizers, batches.Current, epoch, step, sums, inspect));
                if (context is null)
                {
                    continue;
                }

                run.Stage.Loss.OnStepEnd(context);
                var info = new StepInfo(run.Stage.Name, epoch, step, batchIndex, train.BatchCount)
                {
                    EpochsInStage = run.Epochs,
                    Samples = batches.Current.Size,
                };
                step++;
                samples += info.Samples;
                _progress?.Report(info);
                ReportStep(info with { ReadMeanLoss = _lossReader.Read }, sums, samples, clock);
            }
        }

        state.Position = new TrainingPosition(stageIndex, epoch, 0, step, dataEpoch + 1);
    }

    /// <summary>The step's Debug log line and callbacks, which may read the running mean loss while they run.</summary>
    private void ReportStep(StepInfo info, EpochAccumulator sums, long samples, Stopwatch clock)
    {
        _lossReader.Open(sums);
        try
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.LogDebug(
                    "Stage {Stage} epoch {Epoch}/{Epochs} batch {Batch}/{Batches} (step {Step}): mean loss {Loss:F4}, {SamplesPerSecond:F1} samples/s",
                    info.Stage, info.Epoch + 1, info.EpochsInStage, info.BatchInEpoch + 1, info.BatchesPerEpoch, info.Step, sums.MeanLossSoFar(),
                    samples / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
            }

            foreach (var callback in _callbacks)
            {
                callback.OnStepEnd(info);
            }
        }
        finally
        {
            _lossReader.Close();
        }
    }

    private void CheckpointOnCancel(StageRun run, OptimizerSet optimizers, TrainingPosition here, RunState state, EpochAccumulator sums)
    {
        // A data-parallel run checkpoints at epoch ends only: the ranks notice cancellation at different steps, and the
        // partial sums of one rank are not the run's.
        if (_options.Checkpoint.OnCancel && _options.Checkpoint.FilePath is { } file && !_dataParallel.Enabled)
        {
            state.Checkpoints.Write(file, here, state.History, sums.ToProgress(), optimizers);
            _logger.LogInformation("Cancelled at stage {Stage}, epoch {Epoch}, batch {Batch}; checkpoint written to {File}", run.Stage.Name, here.Epoch + 1, here.BatchInEpoch, file);
        }
    }

    /// <summary>
    /// Labels vs. each participant's class count, on the first step of a call (once: a host read): the largest label of the
    /// training data, and of the evaluation data when known, must be below every participant's logit count. The message
    /// names the argument that holds the label and the valid range.
    /// </summary>
    private static void CheckClassCounts(IBatchSource train, IReadOnlyDictionary<string, ModelOutput> outputs, RunState state)
    {
        if (state.CheckedClasses)
        {
            return;
        }

        state.CheckedClasses = true;
        foreach (var (name, output) in outputs)
        {
            if (output.Logits is not { } logits || logits.dim() != 2)
            {
                continue;
            }

            CheckLabels(train.ClassCount, nameof(train), "training", name, logits.shape[1]);
            CheckLabels(state.EvaluationClassCount, "evaluation", "evaluation", name, logits.shape[1]);
        }
    }

    private static void CheckLabels(int? classCount, string argument, string data, string participant, long outputs)
    {
        if (classCount is { } labels && labels > outputs)
        {
            throw new ArgumentException(
                $"The {data} data ('{argument}') holds class label {labels - 1}, but participant '{participant}' outputs {outputs} logits, " +
                $"so labels must be in 0..{outputs - 1}. Fix the labels in the {data} data, or give '{participant}' {labels} outputs.",
                argument);
        }
    }
}
