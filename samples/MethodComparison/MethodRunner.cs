using System.Diagnostics;
using System.Globalization;
using KnowledgeDistillation;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Models;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace MethodComparison;

/// <summary>
/// Runs one method on one seed: the student starts from the seed's initialisation and batch order (the same for every
/// method), trains with the method's recipe, and is evaluated on the validation and test images after every epoch (those
/// passes are timed and left out of the training time).
/// </summary>
internal sealed class MethodRunner(ComparisonSettings settings, ComparisonData data, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<MethodRunner>();

    public MethodRun Run(string method, int seed, CancellationToken ct)
    {
        var loadStart = Machine.LoadAverage();
        var device = new Device(settings.Device);
        using var teacherNet = Networks.Teacher(settings);
        new Teachers(settings, data, loggers).PrepareMain(teacherNet, ct, evaluate: false);
        teacherNet.eval();
        nn.Module<Tensor, Tensor>? secondNet = null;
        try
        {
            using var plainTeacher = Teacher.FromModule(teacherNet, "teacher");
            // Without augmentation the teacher's outputs (and the features a method declares) are cached after the first
            // epoch for every method alike; augmented batches change every epoch, so there the teacher runs every step.
            using var cached = data.Augmented ? null : plainTeacher.WithOutputCache(data.StudentTrainCount);
            IDistillationModel teacher = cached is null ? plainTeacher : cached;
            IDistillationModel SecondTeacher()
            {
                secondNet = Networks.SecondTeacher(settings);
                new Teachers(settings, data, loggers).PrepareSecond(secondNet, ct, evaluate: false);
                secondNet.eval();
                var plain = Teacher.FromModule(secondNet, "teacher2");
                return data.Augmented ? plain : plain.WithOutputCache(data.StudentTrainCount);
            }

            manual_seed(seed);
            using var studentNet = Networks.Student(settings);
            using var setup = MethodCatalog.Create(method, new MethodContext(settings, teacher, teacherNet, studentNet, SecondTeacher, data.StudentTrainLabels, seed));
            return Fit(method, seed, setup, device, loadStart, ct);
        }
        finally
        {
            secondNet?.Dispose();
        }
    }

    private MethodRun Fit(string method, int seed, MethodSetup setup, Device device, double? loadStart, CancellationToken ct)
    {
        var student = setup.Participants.Single(p => p.Name == "student");
        using var evaluator = new EpochEvaluator(student, setup.FinalStage, data.Validation, data.Test, device, ct);
        using var distiller = new Distiller(setup.Participants, setup.Recipe, Teachers.Options(settings, settings.StudentEpochs, seed), loggers.CreateLogger<Distiller>());
        distiller.Callbacks.Add(evaluator);
        _logger.LogInformation("{Method} seed {Seed}: {Recipe}", method, seed, setup.Recipe);
        var fit = distiller.Fit(data.StudentTrain(seed), null, ct);

        var trainSeconds = fit.WallTime.TotalSeconds - evaluator.Seconds;
        var (last, best, bestIndex) = evaluator.Finish();
        var run = new MethodRun
        {
            Method = method,
            Seed = seed,
            LastAccuracy = last,
            BestValidationEpochAccuracy = best,
            BestEpoch = evaluator.Points[bestIndex].Epoch,
            TrainSeconds = trainSeconds,
            PeakMemoryMiB = Machine.PeakResidentMiB(),
            BankUpdateSeconds = setup.BankTimer?.Seconds,
            Steps = fit.History.Sum(h => (long)h.Steps),
            Threads = settings.Threads,
            LoadStart = loadStart,
            LoadEnd = Machine.LoadAverage(),
            Epochs = evaluator.Points,
            Description = MethodCatalog.Descriptions.GetValueOrDefault(method),
        };
        _logger.LogInformation(
            "{Method} seed {Seed}: last {Last:P2}, best-validation epoch {Epoch} {Best:P2}, {Seconds:F0} s, peak {Memory:F0} MiB",
            method, seed, run.LastAccuracy, run.BestEpoch, run.BestValidationEpochAccuracy, run.TrainSeconds, run.PeakMemoryMiB ?? double.NaN);
        return run;
    }

    /// <summary>
    /// After every epoch of the final stage: the validation accuracy, and a copy of the student's weights when it is the
    /// best so far (the test images are then evaluated twice per run, at the best-validation epoch and at the last).
    /// Without a validation split the test images are evaluated every epoch and the best is chosen on them (the papers).
    /// All these passes are timed and left out of the training time.
    /// </summary>
    private sealed class EpochEvaluator(IDistillationModel student, string finalStage, IBatchSource? validation, IBatchSource test, Device device, CancellationToken ct)
        : IDistillationCallback, IDisposable
    {
        private readonly Stopwatch _clock = new();
        private Dictionary<string, Tensor>? _best;
        private double _bestScore = double.NegativeInfinity;

        public List<EpochPoint> Points { get; } = new();

        public double Seconds => _clock.Elapsed.TotalSeconds;

        public void OnEpochEnd(EpochRecord record, TrainingControl control)
        {
            if (record.Stage != finalStage)
            {
                return;
            }

            _clock.Start();
            double? validationAccuracy = validation is null ? null : Evaluation.Run(student, validation, device, cancellationToken: ct)["accuracy"];
            var testAccuracy = validation is null ? Evaluation.Run(student, test, device, cancellationToken: ct)["accuracy"] : double.NaN;
            var score = validationAccuracy ?? testAccuracy;
            if (score > _bestScore)
            {
                _bestScore = score;
                DisposeBest();
                using (no_grad())
                {
                    _best = student.Module.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone().DetachFromDisposeScope());
                }
            }

            _clock.Stop();
            Points.Add(new EpochPoint(record.Stage, record.Epoch, validationAccuracy, testAccuracy, record.Loss, record.LossParts));
        }

        /// <summary>Test accuracy now (the last epoch) and of the best-validation weights (loaded into the student afterwards).</summary>
        public (double Last, double Best, int BestIndex) Finish()
        {
            _clock.Start();
            var last = Evaluation.Run(student, test, device, cancellationToken: ct)["accuracy"];
            var bestIndex = Summary.BestEpochIndex(Points.Select(p => p with { TestAccuracy = double.IsNaN(p.TestAccuracy) ? 0 : p.TestAccuracy }).ToArray());
            double best;
            if (validation is null)
            {
                best = Points[bestIndex].TestAccuracy;
            }
            else
            {
                using (no_grad())
                {
                    foreach (var (name, value) in student.Module.state_dict())
                    {
                        value.copy_(_best![name]);
                    }
                }

                best = Evaluation.Run(student, test, device, cancellationToken: ct)["accuracy"];
                Points[bestIndex] = Points[bestIndex] with { TestAccuracy = best };
            }

            Points[^1] = Points[^1] with { TestAccuracy = last };
            _clock.Stop();
            return (last, best, bestIndex);
        }

        public void Dispose() => DisposeBest();

        private void DisposeBest()
        {
            foreach (var tensor in _best?.Values ?? Enumerable.Empty<Tensor>())
            {
                tensor.Dispose();
            }

            _best = null;
        }
    }
}

/// <summary>Machine readings for the report (Linux <c>/proc</c>; null elsewhere).</summary>
internal static class Machine
{
    /// <summary>The process's peak resident set size (VmHWM) in MiB.</summary>
    public static double? PeakResidentMiB()
    {
        const string file = "/proc/self/status";
        if (!File.Exists(file))
        {
            return null;
        }

        var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kib = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return kib is null ? null : double.Parse(kib, CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>The 1-minute load average.</summary>
    public static double? LoadAverage()
    {
        const string file = "/proc/loadavg";
        return File.Exists(file) ? double.Parse(File.ReadAllText(file).Split(' ')[0], CultureInfo.InvariantCulture) : null;
    }
}
