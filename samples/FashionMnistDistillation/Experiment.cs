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

/// <summary>One row of results: a model's test accuracy after each epoch.</summary>
internal sealed record RunResult(string Model, int Seed, IReadOnlyList<double> TestAccuracyPerEpoch, double Seconds)
{
    public double FinalAccuracy => TestAccuracyPerEpoch[^1];
}

/// <summary>Trains (or loads) the teacher, then for each seed the student alone and the student with KD.</summary>
internal sealed class Experiment(ExperimentSettings settings, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<Experiment>();

    public IReadOnlyList<RunResult> Run(TensorDataset train, TensorDataset test, CancellationToken cancellationToken)
    {
        var results = new List<RunResult>();
        var testBatches = new DataLoader(test, 1000, shuffle: false);
        using var teacherNet = SmallCnn.Teacher();
        results.Add(PrepareTeacher(teacherNet, train, testBatches, cancellationToken));

        using var studentTrain = settings.StudentTrainLimit is { } limit && limit < train.Count ? train.Take(limit) : null;
        var studentData = studentTrain ?? train;
        foreach (var seed in settings.Seeds)
        {
            results.Add(TrainStudent("student alone", seed, null, new CrossEntropyLoss(), studentData, testBatches, cancellationToken));
            var kd = Loss.Hinton(settings.Temperature, settings.Alpha);
            results.Add(TrainStudent("student + KD", seed, teacherNet, kd, studentData, testBatches, cancellationToken));
        }

        return results;
    }

    private RunResult PrepareTeacher(SmallCnn teacherNet, TensorDataset train, IBatchSource test, CancellationToken cancellationToken)
    {
        var device = new Device(settings.Device);
        if (!settings.RetrainTeacher && File.Exists(settings.TeacherFile))
        {
            teacherNet.load(settings.TeacherFile);
            teacherNet.to(device);
            using var wrapped = Teacher.FromModule(teacherNet);
            var accuracy = Evaluation.Run(wrapped, test, device, cancellationToken: cancellationToken)["accuracy"];
            _logger.LogInformation("Loaded the teacher from {File}: test accuracy {Accuracy:P2}", settings.TeacherFile, accuracy);
            return new RunResult("teacher", -1, new[] { accuracy }, 0);
        }

        random.manual_seed(1000);
        using var asStudent = Student.FromModule(teacherNet, "teacher");
        var distiller = new Distiller(new[] { asStudent }, new CrossEntropyLoss("teacher"), Options(settings.TeacherEpochs, seed: 1000), loggers.CreateLogger<Distiller>());
        var result = distiller.UseRunTracking(settings.OutputDirectory, "teacher", replaceExisting: true).Fit(new DataLoader(train, settings.BatchSize, seed: 1000), test, cancellationToken);
        Directory.CreateDirectory(settings.OutputDirectory);
        var temporary = settings.TeacherFile + ".tmp";
        teacherNet.save(temporary);
        File.Move(temporary, settings.TeacherFile, overwrite: true);
        _logger.LogInformation("Saved the teacher to {File}", settings.TeacherFile);
        return new RunResult("teacher", -1, Accuracies(result, "teacher"), result.WallTime.TotalSeconds);
    }

    private RunResult TrainStudent(string label, int seed, SmallCnn? teacherNet, IDistillationLoss loss, TensorDataset train, IBatchSource test, CancellationToken cancellationToken)
    {
        // Same seed => same initial weights and the same batch order for "alone" and "KD".
        random.manual_seed(seed);
        using var studentNet = Students.Create(settings.Student);
        using var student = Student.FromModule(studentNet);
        var participants = new List<IDistillationModel> { student };
        using var plainTeacher = teacherNet is null ? null : Teacher.FromModule(teacherNet);
        using var teacher = plainTeacher is not null && settings.CacheTeacher ? plainTeacher.WithOutputCache(train.Count) : (ITeacher?)plainTeacher;
        if (teacher is not null)
        {
            participants.Insert(0, teacher);
        }

        _logger.LogInformation("Training {Label} ({Student}, {Parameters} parameters), seed {Seed}", label, settings.Student, studentNet.parameters().Sum(p => p.numel()), seed);
        var distiller = new Distiller(participants, loss, Options(settings.StudentEpochs, seed), loggers.CreateLogger<Distiller>());
        var result = distiller.UseRunTracking(settings.OutputDirectory, $"{label}-seed{seed}", replaceExisting: true).Fit(new DataLoader(train, settings.BatchSize, seed: seed), test, cancellationToken);
        if (teacher is not null && seed == settings.Seeds[0])
        {
            var file = Path.Combine(settings.OutputDirectory, "student-kd.bin");
            studentNet.save(file + ".tmp");
            File.Move(file + ".tmp", file, overwrite: true);
            _logger.LogInformation("Saved the distilled student to {File}", file);
        }

        return new RunResult(label, seed, Accuracies(result, "student"), result.WallTime.TotalSeconds);
    }

    private DistillerOptions Options(int epochs, int seed) => new()
    {
        Epochs = epochs,
        Seed = seed,
        Device = settings.Device,
        Optimizer = new OptimizerOptions { LearningRate = settings.LearningRate, Momentum = 0.9, WeightDecay = 5e-4, Nesterov = true },
        LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine },
    };

    private static double[] Accuracies(FitResult result, string participant) =>
        result.History.Select(h => h.EvalMetrics[participant]["accuracy"]).ToArray();
}
