using KnowledgeDistillation;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace MethodComparison;

/// <summary>
/// Trains the teachers once (all methods and seeds share them) and saves them in the output directory; later runs and the
/// child processes load the files. The main teacher is resnet32x4 (seed 1000); the second teacher of the multi-teacher
/// run is resnet20x4 (seed 1001), trained with the same recipe.
/// </summary>
internal sealed class Teachers(ComparisonSettings settings, ComparisonData data, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<Teachers>();

    public static DistillerOptions Options(ComparisonSettings s, int epochs, int seed) => new()
    {
        Epochs = epochs,
        Seed = seed,
        Device = s.Device,
        Threads = s.Threads,
        Optimizer = new OptimizerOptions { LearningRate = s.LearningRate, Momentum = 0.9, WeightDecay = 5e-4, Nesterov = s.Nesterov },
        LearningRateSchedule = s.Milestones.Count > 0
            ? new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.MultiStep, Milestones = s.Milestones.ToArray(), Gamma = 0.1 }
            : new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine },
    };

    /// <summary>Loads the teacher file, training and saving it first if it is missing (or <see cref="ComparisonSettings.RetrainTeacher"/>).</summary>
    /// <param name="net">The network (the weights are loaded or trained in place).</param>
    /// <param name="file">The teacher file.</param>
    /// <param name="name">Participant name.</param>
    /// <param name="seed">Seed of the initialisation and batch order when it is trained.</param>
    /// <param name="ct">Cancels training.</param>
    /// <param name="evaluate">Whether a loaded teacher's test accuracy is measured (the parent records it once; children skip it).</param>
    /// <param name="trainLimit">Train on the first N training images (null: all).</param>
    /// <param name="epochs">Training epochs.</param>
    public TeacherRecord Prepare(nn.Module<Tensor, Tensor> net, string file, string name, int seed, CancellationToken ct, bool evaluate, int? trainLimit, int epochs)
    {
        var device = new Device(settings.Device);
        if (!settings.RetrainTeacher && File.Exists(file))
        {
            net.load(file);
            net.to(device);
            using var loaded = Teacher.FromModule(net, name);
            var accuracy = evaluate ? Evaluation.Run(loaded, data.Test, device, cancellationToken: ct)["accuracy"] : double.NaN;
            _logger.LogInformation("Loaded {Name} from {File}: test accuracy {Accuracy:P2}", name, file, accuracy);
            return new TeacherRecord(name, Architecture(net), Parameters(net), epochs, accuracy, 0);
        }

        _logger.LogInformation("Training {Name} ({Epochs} epochs on {Samples} images)", name, epochs, data.TeacherTrain(seed, trainLimit).SampleCount);
        using var asStudent = Student.FromModule(net, name);
        using var distiller = new Distiller(new[] { asStudent }, Recipes.Of("ce", Loss.CrossEntropy(name)), Options(settings, epochs, seed), loggers.CreateLogger<Distiller>());
        var fit = distiller.UseRunTracking(settings.OutputDirectory, name, replaceExisting: true).Fit(data.TeacherTrain(seed, trainLimit), data.Test, ct);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        net.save(file + ".tmp");
        File.Move(file + ".tmp", file, overwrite: true);
        var trained = fit.History[^1].EvalMetrics[name]["accuracy"];
        _logger.LogInformation("Saved {Name} to {File}: test accuracy {Accuracy:P2} ({Seconds:F0} s)", name, file, trained, fit.WallTime.TotalSeconds);
        return new TeacherRecord(name, Architecture(net), Parameters(net), epochs, trained, fit.WallTime.TotalSeconds);
    }

    /// <summary>The main teacher (resnet32x4, seed 1000, <see cref="ComparisonSettings.TeacherTrainLimit"/> images).</summary>
    public TeacherRecord PrepareMain(nn.Module<Tensor, Tensor> net, CancellationToken ct, bool evaluate = true) =>
        Prepare(net, settings.TeacherFile, "teacher", 1000, ct, evaluate, settings.TeacherTrainLimit, settings.TeacherEpochs);

    /// <summary>The multi-teacher run's second teacher (resnet20x4, seed 1001, <see cref="ComparisonSettings.SecondTeacherTrainLimit"/> images).</summary>
    public TeacherRecord PrepareSecond(nn.Module<Tensor, Tensor> net, CancellationToken ct, bool evaluate = true) =>
        Prepare(net, settings.SecondTeacherFile, "teacher2", 1001, ct, evaluate, settings.SecondTeacherTrainLimit, settings.SecondTeacherEpochs);

    public static string Architecture(nn.Module net) => net switch
    {
        ResNetCifar r => $"resnet{r.Depth} (stem {r.StemWidth}, stages {string.Join("/", r.StageWidths)})",
        SmallCnn => "SmallCnn.Teacher (conv 32-64, 128-unit head)",
        _ => net.GetName(),
    };

    public static long Parameters(nn.Module net) => net.parameters().Sum(p => p.numel());
}
