using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Metrics;
using KnowledgeDistillation.Models;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace SelfSupervisedDistillation;

/// <summary>One student run's outcome.</summary>
internal sealed record RunRecord(string Method, int Seed, double Knn, double LinearProbe, double TrainSeconds, long Steps, double StepEndSeconds, double FinalLoss, string LoadStart, string LoadEnd);

/// <summary>
/// A self-supervised teacher (SimCLR or MoCo v2 on a wide ResNet) and small students trained without labels: MoCo v2 alone,
/// SEED, CompRess-1q and ReKD from the frozen teacher; every encoder evaluated by k-NN accuracy and a linear probe on its
/// frozen pooled features.
/// </summary>
internal sealed class Experiment(Settings settings, ILogger logger)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };
    private Tensor _trainImages = null!;
    private Tensor _trainLabels = null!;
    private Tensor _testImages = null!;
    private Tensor _testLabels = null!;
    private float[] _raw = null!;
    private long[] _labels = null!;

    public static readonly string[] AllMethods = { "ssl", "seed", "seed-t0.01", "compress", "rekd", "rekd-soft" };

    public void Run(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.Combine(settings.Output, "runs"));
        Load();
        using var teacher = TrainTeacher(cancellationToken);
        var (teacherKnn, teacherProbe) = Evaluate(teacher);
        logger.LogInformation("Teacher ({Method}, resnet32x4 x{Width}): k-NN {Knn:P2}, linear probe {Probe:P2}", settings.TeacherMethod, settings.WidthScale, teacherKnn, teacherProbe);
        File.WriteAllText(Path.Combine(settings.Output, "teacher.json"), JsonSerializer.Serialize(new { settings.TeacherMethod, settings.TeacherEpochs, Knn = teacherKnn, LinearProbe = teacherProbe }, Json));
        foreach (var seed in settings.Seeds)
        {
            foreach (var method in settings.Methods)
            {
                var path = Path.Combine(settings.Output, "runs", $"{method}-seed{seed}.json");
                if (File.Exists(path))
                {
                    logger.LogInformation("{Method} seed {Seed}: done before, skipped", method, seed);
                    continue;
                }

                var record = TrainStudent(method, seed, teacher, cancellationToken);
                File.WriteAllText(path, JsonSerializer.Serialize(record, Json));
                logger.LogInformation("{Method} seed {Seed}: k-NN {Knn:P2}, probe {Probe:P2}, {Step:F1} ms/step ({Queue:P2} in step-end updates)", method, seed, record.Knn, record.LinearProbe, 1000 * record.TrainSeconds / record.Steps, record.StepEndSeconds / record.TrainSeconds);
            }
        }

        Summary.Write(settings.Output, teacherKnn, teacherProbe);
    }

    private void Load()
    {
        using var data = FashionMnist.Load(new FashionMnistOptions { Normalize = false, TrainLimit = settings.TrainLimit, TestLimit = settings.TestLimit }, logger);
        _raw = data.Train.Inputs.contiguous().data<float>().ToArray();
        _labels = data.Train.Targets!.data<long>().ToArray();
        _trainImages = Standardize(data.Train.Inputs).DetachFromDisposeScope();
        _trainLabels = data.Train.Targets!.clone().DetachFromDisposeScope();
        _testImages = Standardize(data.Test!.Inputs).DetachFromDisposeScope();
        _testLabels = data.Test!.Targets!.clone().DetachFromDisposeScope();
        logger.LogInformation("Fashion-MNIST: {Train} training images (unlabelled for the SSL runs; labels only for evaluation), {Test} test images", _labels.Length, _testLabels.shape[0]);
    }

    private static Tensor Standardize(Tensor x) => ((x - FashionMnist.TrainMean) / FashionMnist.TrainStd).clone();

    private DataPipeline Pipeline(int seed)
    {
        var augmentation = new Compose(
            new RandomResizedCrop(28, 28, minScale: 0.35),
            new RandomHorizontalFlip(),
            new IntensityJitter(0.4, 0.4, probability: 0.8),
            new RandomGaussianBlur(radius: 1, minSigma: 0.1, maxSigma: 1.0, probability: 0.3),
            new Normalize(new[] { FashionMnist.TrainMean }, new[] { FashionMnist.TrainStd }));
        var dataset = Dataset.FromFunction(
            _labels.Length,
            i => new DataSample(_raw.AsSpan((int)i * 784, 784).ToArray(), [1, 28, 28], _labels[i]),
            classCount: 10);
        var options = new DataPipelineOptions { BatchSize = settings.BatchSize, Seed = seed, DropLast = true, Workers = 0 };
        options.Transforms.Add(new TwoViewTransform(augmentation));
        return new DataPipeline(dataset, options);
    }

    private DistillerOptions Options(int epochs, int seed) => new()
    {
        Epochs = epochs,
        Seed = seed,
        Threads = 1,
        Optimizer = new OptimizerOptions { LearningRate = 0.06, Momentum = 0.9, WeightDecay = 5e-4 },
        LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine },
    };

    private ResNetCifar TrainTeacher(CancellationToken cancellationToken)
    {
        random.manual_seed(1000);
        var net = ResNetCifar.ResNet32x4(settings.ProjectionWidth, 1, settings.WidthScale);
        var path = Path.Combine(settings.Output, $"teacher-{settings.TeacherMethod}-w{settings.WidthScale.ToString(CultureInfo.InvariantCulture)}-e{settings.TeacherEpochs}-n{_labels.Length}.bin");
        if (File.Exists(path))
        {
            net.load(path);
            logger.LogInformation("Teacher loaded from {Path}", path);
            return net;
        }

        var clock = Stopwatch.StartNew();
        using var key = ResNetCifar.ResNet32x4(settings.ProjectionWidth, 1, settings.WidthScale);
        using var participant = KnowledgeDistillation.Student.Create("student", net, b => settings.TeacherMethod == "simclr" ? TwoViews.EncodeBoth(net, b) : TwoViews.EncodeView(net, b, 0, "z"));
        using DistillationLoss loss = settings.TeacherMethod == "simclr"
            ? Loss.NtXent(0.5)
            : Loss.Moco("z", new MomentumEncoder(net, key, 0.99), settings.ProjectionWidth, _labels.Length, settings.QueueSize, 0.2, seed: 1000);
        using var distiller = new Distiller(new IDistillationModel[] { participant }, loss, Options(settings.TeacherEpochs, 1000));
        var result = distiller.Fit(Pipeline(1000), cancellationToken: cancellationToken);
        net.save(path);
        logger.LogInformation("Teacher trained ({Method}, {Epochs} epochs, final loss {Loss:F4}) in {Seconds:F0} s", settings.TeacherMethod, settings.TeacherEpochs, result.History[^1].Loss, clock.Elapsed.TotalSeconds);
        return net;
    }

    private RunRecord TrainStudent(string method, int seed, ResNetCifar teacherNet, CancellationToken cancellationToken)
    {
        random.manual_seed(seed);
        using var net = ResNetCifar.ResNet8x4(settings.ProjectionWidth, 1, settings.WidthScale);
        using var key = ResNetCifar.ResNet8x4(settings.ProjectionWidth, 1, settings.WidthScale);
        using var student = KnowledgeDistillation.Student.Create("student", net, b => TwoViews.EncodeView(net, b, 0, "z"));
        using var teacher = KnowledgeDistillation.Teacher.Create("teacher", teacherNet, b => TwoViews.EncodeView(teacherNet, b, 0, "z"));
        var n = _labels.Length;
        var width = settings.ProjectionWidth;
        IDistillationLoss term = method switch
        {
            "ssl" => Loss.Moco("z", new MomentumEncoder(net, key, 0.99), width, n, settings.QueueSize, 0.2, seed: seed),
            "seed" => Loss.Seed("z", width, n, settings.QueueSize, seed: seed),
            "seed-t0.01" => Loss.Seed("z", width, n, settings.QueueSize, teacherTemperature: 0.01, seed: seed, name: "seed"),
            "compress" => Loss.Compress("z", width, n, settings.QueueSize, seed: seed),
            "rekd" => Loss.Rekd("z", "z", new MomentumEncoder(net, key, 0.99), width, width, n, new NearestAnchorRelation(5), settings.QueueSize, 0.2, seed: seed),
            "rekd-soft" => Loss.Rekd("z", "z", new MomentumEncoder(net, key, 0.99), width, width, n, new SoftRelation(0.05), settings.QueueSize, 0.2, seed: seed),
            _ => throw new ArgumentException($"Unknown method '{method}'.", nameof(method)),
        };
        using var timed = new StepEndTimer(term);
        var participants = method == "ssl" ? new IDistillationModel[] { student } : new IDistillationModel[] { student, teacher };
        using var distiller = new Distiller(participants, timed, Options(settings.StudentEpochs, seed));
        var loadStart = Load1();
        var clock = Stopwatch.StartNew();
        var result = distiller.Fit(Pipeline(seed), cancellationToken: cancellationToken);
        var seconds = clock.Elapsed.TotalSeconds;
        var loadEnd = Load1();
        var (knn, probe) = Evaluate(net);
        var steps = (long)(n / settings.BatchSize) * settings.StudentEpochs;
        return new RunRecord(method, seed, knn, probe, seconds, steps, timed.Seconds, result.History[^1].Loss, loadStart, loadEnd);
    }

    private (double Knn, double Probe) Evaluate(ResNetCifar net)
    {
        using var scope = NewDisposeScope();
        using var features = new PooledFeatures(net);
        var train = FrozenFeatures.Extract(features, _trainImages, batchSize: 500);
        var test = FrozenFeatures.Extract(features, _testImages, batchSize: 500);
        var knn = KnnAccuracy.Compute(train, _trainLabels, test, _testLabels, settings.KnnNeighbours, 0.07);
        var probe = LinearProbe.Fit(train, _trainLabels, test, _testLabels, new LinearProbeOptions { Epochs = settings.ProbeEpochs, BatchSize = 256, LearningRate = 1e-2, Seed = 0 });
        return (knn, probe.TestAccuracy);
    }

    private static string Load1()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "";
        }
    }
}
