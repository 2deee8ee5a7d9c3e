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
    public TeacherRecord Prepare(ResNetCifar net, string file, string name, int seed, CancellationToken ct)
    {
        var device = new Device(settings.Device);
        if (!settings.RetrainTeacher && File.Exists(file))
        {
            net.load(file);
            net.to(device);
            using var loaded = Teacher.FromModule(net, name);
            var accuracy = Evaluation.Run(loaded, data.Test, device, cancellationToken: ct)["accuracy"];
            _logger.LogInformation("Loaded {Name} from {File}: test accuracy {Accuracy:P2}", name, file, accuracy);
            return new TeacherRecord(name, Architecture(net), Parameters(net), settings.TeacherEpochs, accuracy, 0);
        }

        _logger.LogInformation("Training {Name} ({Epochs} epochs on {Samples} images)", name, settings.TeacherEpochs, data.TeacherTrain(seed).SampleCount);
        using var asStudent = Student.FromModule(net, name);
        using var distiller = new Distiller(new[] { asStudent }, Recipes.Of("ce", Loss.CrossEntropy(name)), Options(settings, settings.TeacherEpochs, seed), loggers.CreateLogger<Distiller>());
        var fit = distiller.UseRunTracking(settings.OutputDirectory, name, replaceExisting: true).Fit(data.TeacherTrain(seed), data.Test, ct);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        net.save(file + ".tmp");
        File.Move(file + ".tmp", file, overwrite: true);
        var trained = fit.History[^1].EvalMetrics[name]["accuracy"];
        _logger.LogInformation("Saved {Name} to {File}: test accuracy {Accuracy:P2} ({Seconds:F0} s)", name, file, trained, fit.WallTime.TotalSeconds);
        return new TeacherRecord(name, Architecture(net), Parameters(net), settings.TeacherEpochs, trained, fit.WallTime.TotalSeconds);
    }

    public static string Architecture(ResNetCifar net) =>
        $"resnet{net.Depth} (stem {net.StemWidth}, stages {string.Join("/", net.StageWidths)})";

    public static long Parameters(ResNetCifar net) => net.parameters().Sum(p => p.numel());
}
