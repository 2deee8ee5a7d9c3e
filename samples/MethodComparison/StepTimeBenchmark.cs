using System.Globalization;
using KnowledgeDistillation;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Models;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace MethodComparison;

/// <summary>
/// Each method's training-step time relative to KD, in one process: in every round each method (KD among them, in the
/// listed order) trains a fresh student for one epoch of <see cref="ComparisonSettings.StepTimeSteps"/> batches of the
/// sample's batch size, every stage of a multi-stage recipe one such epoch, and the step time is the epoch's wall time over
/// its steps. The teacher is not cached (it runs in every step for every method, as on augmented data), so the time is
/// the full step: teacher forward, student forward and backward, the term, its modules, the optimiser and the step-end
/// hooks (CRD's bank update, which is also timed on its own). Round 0 warms up and is not used; a method's figure is the
/// median over the other rounds of its time divided by KD's in the same round.
/// </summary>
internal sealed class StepTimeBenchmark(ComparisonSettings settings, ComparisonData data, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<StepTimeBenchmark>();

    public IReadOnlyList<StepTimeRound> Run(CancellationToken ct)
    {
        using var teacherNet = Networks.Teacher(settings);
        new Teachers(settings, data, loggers).PrepareMain(teacherNet, ct, evaluate: false);
        teacherNet.eval();
        using var secondNet = settings.Methods.Contains("multi-teacher") ? Networks.SecondTeacher(settings) : null;
        if (secondNet is not null)
        {
            new Teachers(settings, data, loggers).PrepareSecond(secondNet, ct, evaluate: false);
            secondNet.eval();
        }

        var methods = settings.Methods.Contains("kd") ? settings.Methods : settings.Methods.Prepend("kd").ToArray();
        var rounds = new List<StepTimeRound>();
        for (var round = 0; round < settings.StepTimeRounds; round++)
        {
            var times = new Dictionary<string, double>();
            double? bank = null;
            foreach (var method in methods)
            {
                ct.ThrowIfCancellationRequested();
                var (seconds, bankSeconds) = Time(method, teacherNet, secondNet, ct);
                times[method] = seconds;
                bank ??= bankSeconds;
                _logger.LogInformation("round {Round}: {Method} {Ms:F1} ms/step", round, method, seconds * 1000);
            }

            rounds.Add(new StepTimeRound(round, times, bank));
            Report.WriteJson(Path.Combine(settings.OutputDirectory, "step-time.json"), rounds);
        }

        return rounds;
    }

    private (double SecondsPerStep, double? BankSecondsPerStep) Time(string method, ResNetCifar teacherNet, nn.Module<Tensor, Tensor>? secondNet, CancellationToken ct)
    {
        using var subset = new StepSubset(data, settings);
        using var teacher = Teacher.FromModule(teacherNet, "teacher");
        manual_seed(0);
        using var studentNet = Networks.Student(settings);
        var timedSettings = settings with { StudentEpochs = 1, InitEpochs = 1 };
        using var setup = MethodCatalog.Create(method, new MethodContext(
            timedSettings, teacher, teacherNet, studentNet, () => Teacher.FromModule(secondNet ?? throw new InvalidOperationException("No second teacher."), "teacher2"), subset.Labels, 0));
        using var distiller = new Distiller(setup.Participants, setup.Recipe, Teachers.Options(timedSettings, 1, 0), loggers.CreateLogger<Distiller>());
        var fit = distiller.Fit(subset.Batches, null, ct);
        var steps = fit.History.Sum(h => h.Steps);
        return (fit.WallTime.TotalSeconds / steps, setup.BankTimer is { } timer ? timer.Seconds / timer.Steps : null);
    }

    public static string Table(IReadOnlyList<StepTimeRound> rounds)
    {
        var ratios = Summary.StepTimeRatios(rounds);
        var text = new System.Text.StringBuilder("| method | step time vs KD (median) | per round |\n|---|---|---|\n");
        foreach (var (method, ratio) in ratios)
        {
            var perRound = string.Join(", ", rounds.Skip(1).Where(r => r.SecondsPerStep.ContainsKey(method))
                .Select(r => (r.SecondsPerStep[method] / r.SecondsPerStep["kd"]).ToString("F2", CultureInfo.InvariantCulture)));
            text.AppendLine(CultureInfo.InvariantCulture, $"| {method} | {ratio:F2} | {perRound} |");
        }

        var bank = rounds.Skip(1).Where(r => r.CrdBankSecondsPerStep is not null).Select(r => r.CrdBankSecondsPerStep!.Value / r.SecondsPerStep["kd"]).ToArray();
        if (bank.Length > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"\nCRD bank update (OnStepEnd) / KD step: median {Summary.Median(bank) * 100:F2} % (per round: {string.Join(", ", bank.Select(b => (b * 100).ToString("F2", CultureInfo.InvariantCulture)))} %)");
        }

        return text.ToString();
    }

    /// <summary>The first <c>steps x batch</c> student training images, in a fixed order.</summary>
    private sealed class StepSubset : IDisposable
    {
        private readonly IDisposable? _owned;

        public StepSubset(ComparisonData data, ComparisonSettings s)
        {
            var source = data.StudentTrain(0);
            var count = Math.Min((long)s.StepTimeSteps * s.BatchSize, data.StudentTrainCount);
            Labels = data.StudentTrainLabels.Take((int)count).ToArray();
            if (source is DataLoader)
            {
                // Fashion-MNIST: the first images of the students' set.
                var all = data.StudentTensorSet ?? throw new InvalidOperationException("No tensor data set.");
                var subset = all.Take(count);
                _owned = subset;
                Batches = new DataLoader(subset, s.BatchSize, seed: 0);
            }
            else
            {
                Batches = source;
                Labels = data.StudentTrainLabels;
            }

        }

        public IBatchSource Batches { get; }

        /// <summary>The subset's labels by sample index (its size is CRD's N).</summary>
        public long[] Labels { get; }

        public void Dispose() => _owned?.Dispose();
    }
}
