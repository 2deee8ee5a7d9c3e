using KnowledgeDistillation;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionMnistDistillation;

/// <summary>One evaluated model of one online/semi-online run (a DML run yields two rows, a SOKD run the student and the bridge).</summary>
internal sealed record OnlineResult(string Method, string Model, int Seed, double Accuracy, double TrainSeconds);

/// <summary>
/// The online and semi-online comparison of docs/benchmarks.md: the same scaled resnet32x4 teacher and resnet8x4 student
/// pair, the same data, epochs and optimiser for every method: student alone, KD, DML (two peers, sequential updates),
/// SOKD (student and bridge), IE-KD and IE-DML.
/// </summary>
internal sealed class OnlineExperiment(OnlineSettings settings, ILoggerFactory loggers)
{
    public static readonly string[] Methods = { "alone", "kd", "dml", "sokd", "iekd", "iedml" };

    /// <summary>
    /// Variants run only when named: <c>sokd-f</c> = SOKD with its feature extension (attention transfer between the
    /// student's and the bridge's last-stage maps, both ways, weight <c>--sokd-feature-weight</c>); <c>ie</c> = IE-KD's
    /// stages without the KD term (CE + inheritance/exploration), a diagnostic.
    /// </summary>
    public static readonly string[] ExtraMethods = { "sokd-f", "ie" };

    private readonly ILogger _logger = loggers.CreateLogger<OnlineExperiment>();

    private Device Device => new(settings.Device);

    public IReadOnlyList<OnlineResult> Run(TensorDataset train, TensorDataset test, Action<IReadOnlyList<OnlineResult>>? onResult, CancellationToken cancellationToken)
    {
        var results = new List<OnlineResult>();
        var testBatches = new DataLoader(test, 1000, shuffle: false);
        using var teacherNet = NewTeacher();
        results.Add(PrepareTeacher(teacherNet, train, testBatches, cancellationToken));
        onResult?.Invoke(results);
        teacherNet.eval();
        using var limited = settings.StudentTrainLimit is { } limit && limit < train.Count ? train.Take(limit) : null;
        var data = limited ?? train;
        foreach (var seed in settings.Seeds)
        {
            foreach (var method in Methods.Concat(ExtraMethods).Where(settings.Methods.Contains))
            {
                results.AddRange(RunMethod(method, seed, teacherNet, data, testBatches, cancellationToken));
                onResult?.Invoke(results);
            }
        }

        return results;
    }

    private ResNetCifar NewTeacher() => ResNetCifar.ResNet32x4(10, inputChannels: 1, widthScale: settings.WidthScale);

    private ResNetCifar NewStudent(int seed)
    {
        random.manual_seed(seed);
        return ResNetCifar.ResNet8x4(10, inputChannels: 1, widthScale: settings.WidthScale);
    }

    private IReadOnlyList<OnlineResult> RunMethod(string method, int seed, ResNetCifar teacherNet, TensorDataset train, IBatchSource test, CancellationToken cancellationToken)
    {
        _logger.LogInformation("Online comparison: {Method}, seed {Seed}", method, seed);
        using var studentNet = NewStudent(seed);
        // No feature is named here: each method's losses declare the features they read (SOKD's bridge input "stage2",
        // IE-KD's last-stage maps "stage3"), Fit captures exactly those, and the teacher cache keeps exactly those.
        using var student = Student.FromModule(studentNet, "student");
        using var plainTeacher = Teacher.FromModule(teacherNet, "teacher");
        using var teacher = plainTeacher.WithOutputCache(train.Count);
        switch (method)
        {
            case "alone":
                return Fit(method, seed, new IDistillationModel[] { student }, Recipes.Of("ce", Loss.CrossEntropy()), train, test, cancellationToken);
            case "kd":
                return Fit(method, seed, new IDistillationModel[] { teacher, student }, Recipes.Hinton(settings.Temperature, settings.Alpha), train, test, cancellationToken);
            case "dml":
            {
                // Two peers of the same architecture, different initialisations; Algorithm 1's sequential update by default.
                using var peerNet = NewStudent(seed + 10_000);
                using var peer = Student.FromModule(peerNet, "peer");
                var recipe = Recipes.MutualLearning(new[] { "student", "peer" }, updateOrder: settings.UpdateOrder);
                return Fit(method, seed, new IDistillationModel[] { student, peer }, recipe, train, test, cancellationToken);
            }

            case "sokd":
            case "sokd-f":
            {
                // The bridge: a fresh (randomly initialised, as the released code) copy of the teacher's last stage + classifier
                // on the frozen teacher's stage-2 output.
                random.manual_seed(seed + 20_000);
                using var bridge = teacherNet.CreateLastStageBranch(10, copyWeights: false);
                // The recipe evaluates the bridge on the plain teacher (it unwraps the cache, which holds training samples only).
                var recipe = method == "sokd"
                    ? Recipes.Sokd(bridge, "stage2", settings.Temperature)
                    : Recipes.Sokd(bridge, "stage2", settings.Temperature, new SemiOnlineWeights { Features = settings.SokdFeatureWeight }, studentFeature: "stage3", bridgeFeature: "stage3");
                return Fit(method, seed, new IDistillationModel[] { teacher, student }, recipe, train, test, cancellationToken);
            }

            case "iekd":
            case "ie":
            {
                // Stage 1: an autoencoder learns compact factors of the frozen teacher's last-stage feature (only the
                // loss's module trains). Stage 2: KD plus inheritance (half of the student's channels imitate the factors)
                // and exploration (the other half is pushed away from them).
                random.manual_seed(seed + 30_000);
                using var autoencoder = new FactorAutoencoder(teacherNet.FeatureChannels, settings.FactorChannels);
                var recipe = Recipes.IeKd(
                    autoencoder, ChannelSplit.Natural(studentNet.FeatureChannels), "stage3", "stage3", settings.AutoencoderEpochs, settings.Temperature, settings.Alpha,
                    withKD: method != "ie", inheritanceWeight: settings.IeWeight, explorationWeight: settings.IeWeight);
                return Fit(method, seed, new IDistillationModel[] { teacher, student }, recipe, train, test, cancellationToken);
            }

            case "iedml":
            {
                // Two peers, DML plus inheritance/exploration against the other peer's factors (autoencoders trained online;
                // the official code has no IE-DML, see docs/methods/ie-kd-notes.md), sequential updates as DML.
                using var peerNet = NewStudent(seed + 10_000);
                using var peer = Student.FromModule(peerNet, "peer");
                random.manual_seed(seed + 30_000);
                using var studentAutoencoder = new FactorAutoencoder(studentNet.FeatureChannels, settings.FactorChannels);
                using var peerAutoencoder = new FactorAutoencoder(peerNet.FeatureChannels, settings.FactorChannels);
                var split = ChannelSplit.Natural(studentNet.FeatureChannels);
                var recipe = Recipes.IeDml(
                    studentAutoencoder, peerAutoencoder, split, split, "stage3", "student", "peer", settings.IeWeight, settings.IeWeight, updateOrder: settings.UpdateOrder);
                return Fit(method, seed, new IDistillationModel[] { student, peer }, recipe, train, test, cancellationToken);
            }

            default:
                throw new ArgumentException($"Unknown method '{method}'; use one of: {string.Join(", ", Methods)}.", nameof(method));
        }
    }

    private IReadOnlyList<OnlineResult> Fit(
        string method,
        int seed,
        IReadOnlyList<IDistillationModel> participants,
        DistillationRecipe recipe,
        TensorDataset train,
        IBatchSource test,
        CancellationToken cancellationToken)
    {
        // The distiller owns the recipe's losses (a SOKD bridge's hook): disposing it releases them.
        using var distiller = new Distiller(participants, recipe, Options(settings.StudentEpochs, seed), loggers.CreateLogger<Distiller>());

        // Evaluation only after training, so the wall time is training only and comparable across methods.
        var fit = distiller.UseRunTracking(settings.OutputDirectory, $"online-{method}-seed{seed}", replaceExisting: true).Fit(new DataLoader(train, settings.BatchSize, seed: seed), null, cancellationToken);

        var metrics = distiller.Evaluate(test, cancellationToken);
        // Evaluate skips frozen teachers: the rows are the students, peers and evaluation models (SOKD's bridge).
        var rows = metrics
            .Select(m => new OnlineResult(method, m.Key, seed, m.Value["accuracy"], fit.WallTime.TotalSeconds))
            .ToArray();
        foreach (var row in rows)
        {
            _logger.LogInformation("{Method} seed {Seed}: {Model} test accuracy {Accuracy:P2} ({Seconds:F0}s)", method, seed, row.Model, row.Accuracy, row.TrainSeconds);
        }

        return rows;
    }

    private OnlineResult PrepareTeacher(ResNetCifar teacherNet, TensorDataset train, IBatchSource test, CancellationToken cancellationToken)
    {
        if (!settings.RetrainTeacher && File.Exists(settings.TeacherFile))
        {
            teacherNet.load(settings.TeacherFile);
            teacherNet.to(Device);
            using var wrapped = Teacher.FromModule(teacherNet);
            var accuracy = Evaluation.Run(wrapped, test, Device, cancellationToken: cancellationToken)["accuracy"];
            _logger.LogInformation("Loaded the teacher from {File}: test accuracy {Accuracy:P2}", settings.TeacherFile, accuracy);
            return new OnlineResult("teacher", "teacher", -1, accuracy, 0);
        }

        random.manual_seed(1000);
        using (no_grad())
        {
            using var fresh = NewTeacher();
            foreach (var (target, source) in teacherNet.parameters().Zip(fresh.parameters()))
            {
                target.copy_(source);
            }
        }

        using var asStudent = Student.FromModule(teacherNet, "teacher");
        var distiller = new Distiller(new[] { asStudent }, new CrossEntropyLoss("teacher"), Options(settings.TeacherEpochs, 1000), loggers.CreateLogger<Distiller>());
        var fit = distiller.UseRunTracking(settings.OutputDirectory, "online-teacher", replaceExisting: true).Fit(new DataLoader(train, settings.BatchSize, seed: 1000), test, cancellationToken);
        Directory.CreateDirectory(settings.OutputDirectory);
        teacherNet.save(settings.TeacherFile + ".tmp");
        File.Move(settings.TeacherFile + ".tmp", settings.TeacherFile, overwrite: true);
        _logger.LogInformation("Saved the teacher to {File}", settings.TeacherFile);
        return new OnlineResult("teacher", "teacher", -1, fit.History[^1].EvalMetrics["teacher"]["accuracy"], fit.WallTime.TotalSeconds);
    }

    private DistillerOptions Options(int epochs, int seed) => new()
    {
        Epochs = epochs,
        Seed = seed,
        Device = settings.Device,
        Optimizer = new OptimizerOptions { LearningRate = settings.LearningRate, Momentum = 0.9, WeightDecay = 5e-4, Nesterov = true },
        LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine },
    };
}
