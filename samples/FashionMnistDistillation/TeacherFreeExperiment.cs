using KnowledgeDistillation;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionMnistDistillation;

/// <summary>One teacher-free run: final test accuracy and training wall time (evaluation excluded).</summary>
internal sealed record TeacherFreeResult(string Method, int Seed, double Accuracy, double TrainSeconds, double PretrainSeconds)
{
    /// <summary>Training time including any pre-training the method needs (Tf-KD self's teacher).</summary>
    public double TotalSeconds => TrainSeconds + PretrainSeconds;
}

/// <summary>
/// Teacher-free comparison of DR-KD's paper: for each seed, the same student with the same initial weights, batch order
/// and budget trained with plain CE, label smoothing, Tf-KD self (KD from the plain run's model), Tf-KD reg, DR-KD (dynamic
/// self-teacher) and DR-KD with the previous epoch's logits; all in one process, one after another, so their times compare.
/// </summary>
internal sealed class TeacherFreeExperiment(ExperimentSettings settings, ILoggerFactory loggers)
{
    public static readonly string[] Methods = { "plain", "label-smoothing", "tfkd-self", "tfkd-reg", "drkd", "drkd-prev" };

    /// <summary>Label-smoothing epsilon (the usual 0.1).</summary>
    public const double LabelSmoothing = 0.1;

    /// <summary>Tf-KD reg: the official code's a = 0.99, T = 20, alpha = 0.1 (ResNet18 / CIFAR-100) ...</summary>
    public const double RegCorrectProbability = 0.99, RegTemperature = 20, RegAlpha = 0.1;

    /// <summary>... with multiplier 100 rescaled from K = 100 to K = 10 classes so that alpha * multiplier / K stays 0.1.</summary>
    public const double RegMultiplier = 10;

    private readonly ILogger _logger = loggers.CreateLogger<TeacherFreeExperiment>();

    /// <summary>Runs every seed and method; <paramref name="onResult"/> sees the results so far after each run.</summary>
    public IReadOnlyList<TeacherFreeResult> Run(TensorDataset train, TensorDataset test, Action<IReadOnlyList<TeacherFreeResult>>? onResult, CancellationToken cancellationToken)
    {
        var results = new List<TeacherFreeResult>();
        var testBatches = new DataLoader(test, 1000, shuffle: false);
        var methods = settings.TeacherFreeMethods;
        WarmUp(train, testBatches, cancellationToken);
        foreach (var seed in settings.Seeds)
        {
            // Tf-KD self needs the plain run's model as its teacher, so the plain run happens whenever tfkd-self is asked for.
            using var plainNet = Students.Create(settings.Student);
            TeacherFreeResult? plain = null;
            if (methods.Contains("plain") || methods.Contains("tfkd-self"))
            {
                plain = Train("plain", seed, plainNet, new CrossEntropyLoss(), null, train, testBatches, cancellationToken);
                if (methods.Contains("plain"))
                {
                    results.Add(plain);
                    onResult?.Invoke(results);
                }
            }

            foreach (var method in Methods.Where(m => m != "plain" && methods.Contains(m)))
            {
                using var net = Students.Create(settings.Student);
                using var previous = method == "drkd-prev" ? new PreviousEpochSelfTeacher(train.Count, new Device(settings.Device)) : null;
                var loss = method switch
                {
                    "label-smoothing" => new CrossEntropyLoss(labelSmoothing: LabelSmoothing),
                    "tfkd-self" => Loss.Hinton(settings.Temperature, settings.Alpha),
                    "tfkd-reg" => Loss.TfKdReg(RegCorrectProbability, RegTemperature, RegAlpha, RegMultiplier),
                    "drkd" => Loss.DrKd(settings.Temperature, settings.Alpha),
                    "drkd-prev" => (IDistillationLoss)Loss.DrKd(settings.Temperature, settings.Alpha, previous),
                    _ => throw new InvalidOperationException($"Unknown method '{method}'."),
                };
                var teacher = method == "tfkd-self" ? plainNet : null;
                var result = Train(method, seed, net, loss, teacher, train, testBatches, cancellationToken);
                results.Add(method == "tfkd-self" ? result with { PretrainSeconds = plain!.TrainSeconds } : result);
                onResult?.Invoke(results);
            }
        }

        return results;
    }

    /// <summary>One untimed epoch of every loss on 1024 samples, so JIT compilation and first-touch costs do not count against the first timed run.</summary>
    private void WarmUp(TensorDataset train, IBatchSource test, CancellationToken cancellationToken)
    {
        using var subset = train.Take(Math.Min(1024, train.Count));
        using var net = Students.Create(settings.Student);
        using var teacherNet = Students.Create(settings.Student);
        using var previous = new PreviousEpochSelfTeacher(subset.Count);
        var losses = new (IDistillationLoss Loss, SmallCnn? Teacher)[]
        {
            (new CrossEntropyLoss(labelSmoothing: LabelSmoothing), null),
            (Loss.Hinton(settings.Temperature, settings.Alpha), teacherNet),
            (Loss.TfKdReg(RegCorrectProbability, RegTemperature, RegAlpha, RegMultiplier), null),
            (Loss.DrKd(settings.Temperature, settings.Alpha, previous), null),
        };
        foreach (var (loss, teacher) in losses)
        {
            Train("warm-up", 0, net, loss, teacher, subset, test, cancellationToken, epochs: 1);
        }
    }

    private TeacherFreeResult Train(string method, int seed, SmallCnn net, IDistillationLoss loss, SmallCnn? teacherNet, TensorDataset train, IBatchSource test, CancellationToken cancellationToken, int? epochs = null)
    {
        // Same seed => same initial weights (re-initialised here) and the same batch order for every method.
        random.manual_seed(seed);
        using (no_grad())
        {
            using var fresh = Students.Create(settings.Student);
            foreach (var (target, source) in net.parameters().Zip(fresh.parameters()))
            {
                target.copy_(source);
            }
        }

        using var student = Student.FromModule(net);
        using var plainTeacher = teacherNet is null ? null : Teacher.FromModule(teacherNet);
        var participants = new List<IDistillationModel> { student };
        if (plainTeacher is not null)
        {
            participants.Insert(0, plainTeacher);
        }

        _logger.LogInformation("Teacher-free: {Method}, {Student} student, seed {Seed}", method, settings.Student, seed);
        var distiller = new Distiller(participants, loss, Options(seed, epochs), loggers.CreateLogger<Distiller>());

        // No evaluation inside Fit, so the wall time is training only and comparable across methods.
        var fit = distiller.UseRunTracking(settings.OutputDirectory, $"teacher-free-{method}-seed{seed}", replaceExisting: true).Fit(new DataLoader(train, settings.BatchSize, seed: seed), null, cancellationToken);
        var accuracy = Evaluation.Run(student, test, new Device(settings.Device), cancellationToken: cancellationToken)["accuracy"];
        _logger.LogInformation("{Method} seed {Seed}: test accuracy {Accuracy:P2}, {Seconds:F1}s training", method, seed, accuracy, fit.WallTime.TotalSeconds);
        return new TeacherFreeResult(method, seed, accuracy, fit.WallTime.TotalSeconds, 0);
    }

    private DistillerOptions Options(int seed, int? epochs) => new()
    {
        Epochs = epochs ?? settings.StudentEpochs,
        Seed = seed,
        Device = settings.Device,
        Optimizer = new OptimizerOptions { LearningRate = settings.LearningRate, Momentum = 0.9, WeightDecay = 5e-4, Nesterov = true },
        LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine },
    };
}
