using System.Diagnostics;
using KnowledgeDistillation;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Serialization;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace KnowledgeGraphDistillation;

/// <summary>One row of the results table.</summary>
internal sealed record Row(string Method, int Seed, int Dimension, long Parameters, LinkPredictionResult Test, double TrainSeconds, double EvalSeconds);

/// <summary>Runs teacher, student alone, score KD and DualDE for one seed through <see cref="Distiller.Fit"/>.</summary>
internal sealed class Experiment(Settings settings, KnowledgeGraph graph, ILogger logger, ILogger<Distiller> distillerLogger)
{
    private readonly LinkPredictionEvaluator _evaluator = LinkPredictionEvaluator.For(graph);

    public IReadOnlyList<Row> Run(int seed, CancellationToken cancellationToken)
    {
        var rows = new List<Row>();
        var corruption = settings.Corruption == "bernoulli" ? CorruptionMode.Bernoulli : CorruptionMode.Alternate;
        var data = new TripleBatchSource(graph.Train, graph.EntityCount, settings.BatchSize, settings.Negatives, seed, corruption, subsamplingWeights: settings.Subsampling);
        double? adv = settings.AdversarialTemperature > 0 ? settings.AdversarialTemperature : null;

        random.manual_seed(seed);
        using var teacherModel = Create(settings.TeacherDim);
        var clock = Stopwatch.StartNew();
        if (settings.TeacherFile is { } file && File.Exists(file))
        {
            SafeTensors.LoadInto(teacherModel, file);
            logger.LogInformation("seed {Seed}: teacher loaded from {File} (not trained)", seed, file);
            rows.Add(Evaluate("teacher", seed, teacherModel, 0));
        }
        else
        {
            TrainTeacher(teacherModel, data, seed, cancellationToken);
            rows.Add(Evaluate("teacher", seed, teacherModel, clock.Elapsed.TotalSeconds));
            if (settings.TeacherFile is { } target)
            {
                SafeTensors.Save(teacherModel, target, metadata: new Dictionary<string, string>
                {
                    ["model"] = settings.Model,
                    ["dimension"] = settings.TeacherDim.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["data"] = settings.Data,
                    ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["test-mrr"] = rows[^1].Test.Mrr.ToString("F4", System.Globalization.CultureInfo.InvariantCulture),
                });
                logger.LogInformation("seed {Seed}: teacher saved to {File}", seed, target);
            }
        }

        if (settings.TeacherOnly)
        {
            return rows;
        }

        ScoreCalibration? calibration = null;
        if (settings.TeacherOneToN && !settings.CalibrateTeacher)
        {
            logger.LogWarning("The teacher was trained with 1-N scoring: its scores are not sigmoid logits, which score KD and DualDE assume; add --calibrate-teacher (docs/knowledge-graph-embeddings.md, \"Calibrating a teacher's scores\").");
        }
        if (settings.CalibrateTeacher)
        {
            // Platt scaling on the validation split (held out from the teacher's training) and uniform corruptions.
            calibration = ScoreCalibration.Fit(teacherModel, graph.Valid, negativesPerTriple: 32, seed: seed, cancellationToken: cancellationToken);
            logger.LogInformation("seed {Seed}: teacher scores calibrated on validation: sigmoid({Scale:F4} * f + {Shift:F4})", seed, calibration.Scale, calibration.Shift);
        }
        using var teacher = KgeParticipant.Teacher(teacherModel, calibration: calibration);

        using (var alone = Create(settings.StudentDim, seed))
        {
            clock.Restart();
            using var participant = KgeParticipant.Student(alone);
            var loss = WithL3(new SelfAdversarialLoss(adversarialTemperature: adv), alone, "l3-student");
            Fit("student-alone", alone, new[] { participant }, loss, settings.StudentEpochs, data, seed, cancellationToken);
            rows.Add(Evaluate("student alone", seed, alone, clock.Elapsed.TotalSeconds));
            if (settings.Stage2Epochs > 0)
            {
                // The schedule-matched baseline of DualDE 1+2: the student alone continues as DualDE's stage 2 does (its epochs,
                // its learning rate, a fresh Adam, its own selection), without a teacher.
                var stage2 = new DistillationStage("alone-stage2", loss) { Epochs = settings.Stage2Epochs, Optimizer = Adam(settings.Stage2LearningRate) };
                Run("student-alone-stage2", seed, alone, new Distiller(new[] { participant }, new[] { stage2 }, Options(settings.StudentEpochs, seed), distillerLogger), data, cancellationToken);
                rows.Add(Evaluate("student alone (DualDE schedule)", seed, alone, clock.Elapsed.TotalSeconds));
            }
        }

        if (!settings.SkipScoreKd)
        {
            using var kd = Create(settings.StudentDim, seed);
            clock.Restart();
            var loss = WithL3(new SelfAdversarialLoss(adversarialTemperature: adv) + new ScoreDistillationLoss(adversarialTemperature: adv), kd, "l3-student");
            using var participant = KgeParticipant.Student(kd);
            Fit("score-kd", kd, new IDistillationModel[] { teacher, participant }, loss, settings.StudentEpochs, data, seed, cancellationToken);
            rows.Add(Evaluate("student + score KD", seed, kd, clock.Elapsed.TotalSeconds));
        }

        if (settings.SkipDualDE)
        {
            return rows;
        }

        using var dualde = Create(settings.StudentDim, seed);
        using var student = KgeParticipant.Student(dualde);
        using var weights = new DualDEWeights(settings.ShareStudentSigmoid);
        var stages = Recipes.DualDE(
            weights, settings.StudentEpochs, settings.Stage2Epochs,
            stage2Optimizer: Adam(settings.Stage2LearningRate), useStructure: settings.Structure, adversarialTemperature: adv).Stages
            .Select((stage, i) => stage.WithLoss(WithL3(WithL3(stage.Loss, dualde, "l3-student"), i == 0 ? null : teacherModel, "l3-teacher")))
            .ToArray();
        var participants = new IDistillationModel[] { teacher, student };
        clock.Restart();
        Run("dualde-stage1", seed, dualde, new Distiller(participants, stages.Take(1), Options(settings.StudentEpochs, seed), distillerLogger), data, cancellationToken);
        rows.Add(Evaluate("DualDE stage 1", seed, dualde, clock.Elapsed.TotalSeconds));
        logger.LogInformation("Soft-label sigmoid after stage 1: a={A:F3} b={B:F3} a'={A2:F3} b'={B2:F3}",
            weights.StudentPositive.A.item<float>(), weights.StudentPositive.B.item<float>(), weights.StudentNegative.A.item<float>(), weights.StudentNegative.B.item<float>());
        if (stages.Length > 1)
        {
            Run("dualde-stage2", seed, dualde, new Distiller(participants, stages.Skip(1), Options(settings.StudentEpochs, seed), distillerLogger), data, cancellationToken);
            rows.Add(Evaluate("DualDE stage 1+2", seed, dualde, clock.Elapsed.TotalSeconds));
            rows.Add(Evaluate("teacher after stage 2", seed, teacherModel, 0));
        }
        return rows;
    }

    /// <summary>Trains the teacher (negative sampling or 1-N scoring, plus the L3 term when set), checkpointed and resumable with --checkpoints.</summary>
    private void TrainTeacher(KgeModel teacherModel, TripleBatchSource data, int seed, CancellationToken cancellationToken)
    {
        using var asStudent = KgeParticipant.Student(teacherModel, "teacher");
        double? adv = settings.AdversarialTemperature > 0 ? settings.AdversarialTemperature : null;
        IDistillationLoss loss = settings.TeacherOneToN
            ? new OneToNLoss("teacher", OneToNObjective.SoftmaxCrossEntropy, settings.LabelSmoothing)
            : new SelfAdversarialLoss("teacher", adv);
        if (settings.TeacherRegularization > 0)
        {
            loss += new EmbeddingL3Regularization(teacherModel, settings.TeacherRegularization);
        }

        var options = Options(settings.TeacherEpochs, seed);
        string? resumeFrom = null;
        if (settings.Checkpoints is { } root)
        {
            options.Checkpoint = new CheckpointOptions { Directory = Path.Combine(root, $"teacher-seed{seed}") };
            var existing = Path.Combine(options.Checkpoint.Directory, "checkpoint.kdck");
            if (File.Exists(existing))
            {
                resumeFrom = existing;
                logger.LogInformation("seed {Seed}: resuming the teacher from {Checkpoint}", seed, existing);
            }
        }

        KnowledgeDistillation.Data.IBatchSource batches = settings.TeacherOneToN
            ? new QueryBatchSource(graph.Train, graph.EntityCount, settings.BatchSize, seed)
            : data;
        Run("teacher", seed, teacherModel, new Distiller(new[] { asStudent }, loss, options, distillerLogger), batches, cancellationToken, resumeFrom);
    }

    /// <summary><paramref name="loss"/> plus the L3 term of <paramref name="model"/> when --l3 is set (the DualDE code's regulariser).</summary>
    private IDistillationLoss WithL3(IDistillationLoss loss, KgeModel? model, string name) =>
        settings.StudentRegularization > 0 && model is not null ? loss + new EmbeddingL3Regularization(model, settings.StudentRegularization, name) : loss;

    private KgeModel Create(int dim, int? seed = null)
    {
        if (seed is { } s)
        {
            random.manual_seed(s + 1000);
        }
        double? range = settings.InitMargin is { } margin ? (margin + 2) / dim : null;
        return settings.Model switch
        {
            "TransE" => new TransE(graph.EntityCount, graph.RelationCount, dim, settings.Margin, initRange: range),
            "DistMult" => new DistMult(graph.EntityCount, graph.RelationCount, dim, range),
            "ComplEx" => new ComplEx(graph.EntityCount, graph.RelationCount, dim, range),
            "RotatE" => new RotatE(graph.EntityCount, graph.RelationCount, dim, settings.Margin, initRange: range),
            _ => throw new ArgumentException($"Unknown model '{settings.Model}': use TransE, DistMult, ComplEx or RotatE."),
        };
    }

    private OptimizerOptions Adam(double lr) => new() { Kind = OptimizerKind.Adam, LearningRate = lr, WeightDecay = 0 };

    private DistillerOptions Options(int epochs, int seed) => new()
    {
        Epochs = epochs,
        Seed = seed,
        Optimizer = Adam(settings.LearningRate),
        Threads = settings.Threads ?? DistillerOptions.DefaultThreads,
    };

    private void Fit(string run, KgeModel selected, IEnumerable<IDistillationModel> participants, IDistillationLoss loss, int epochs, TripleBatchSource data, int seed, CancellationToken ct) =>
        Run(run, seed, selected, new Distiller(participants, loss, Options(epochs, seed), distillerLogger), data, ct);

    /// <summary>Trains; with --valid-every, selects <paramref name="selected"/> on validation MRR (best weights restored).</summary>
    private void Run(string run, int seed, KgeModel selected, Distiller distiller, KnowledgeDistillation.Data.IBatchSource data, CancellationToken ct, string? resumeFrom = null)
    {
        distiller.Metrics.Clear();
        using var selection = settings.ValidEvery > 0
            ? new LinkPredictionCallback(selected, _evaluator, graph.Valid, settings.ValidEvery, settings.Patience, logger, EarlyStopScope.Stage, restoreBest: true)
            : null;
        if (selection is not null)
        {
            distiller.Callbacks.Add(selection);
        }

        distiller.UseRunTracking(settings.TrackingDirectory, $"{settings.Model}-{run}-seed{seed}", replaceExisting: resumeFrom is null);
        if (resumeFrom is null)
        {
            distiller.Fit(data, cancellationToken: ct);
        }
        else
        {
            distiller.Resume(resumeFrom, data, cancellationToken: ct);
        }

        if (selection?.BestAt is { } at)
        {
            logger.LogInformation("{Run} seed {Seed}: selected {Stage} epoch {Epoch} (validation MRR {Mrr:F4})", run, seed, at.Stage, at.Epoch + 1, selection.Best!.Mrr);
        }
    }

    private Row Evaluate(string method, int seed, KgeModel model, double trainSeconds)
    {
        var times = new List<double>();
        LinkPredictionResult? result = null;
        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            result = _evaluator.Evaluate(model, graph.Test);
            times.Add(clock.Elapsed.TotalSeconds);
        }
        times.Sort();
        var row = new Row(method, seed, model.Dimension, model.ParameterCount, result!, trainSeconds, times[1]);
        logger.LogInformation("seed {Seed} {Method} (dim {Dim}): {Result}; train {Train:F1}s, test eval {Eval:F3}s", seed, method, model.Dimension, result, trainSeconds, times[1]);
        return row;
    }
}
