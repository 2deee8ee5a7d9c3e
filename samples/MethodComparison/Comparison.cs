using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Logging;

namespace MethodComparison;

/// <summary>
/// The parent of a comparison: prepares the teachers once, then runs every (seed, method) — by default each in its own
/// child process (this program with <c>--child</c>), so the peak memory it reports is that run's alone — skipping runs whose
/// result file exists, and finally aggregates every file under <c>runs/</c> (also those of earlier segments).
/// </summary>
internal sealed class Comparison(ComparisonSettings settings, IReadOnlyList<string> forwardedArguments, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger<Comparison>();

    public async Task<IReadOnlyList<MethodRun>> RunAsync(ComparisonData data, CancellationToken ct)
    {
        var teachers = PrepareTeachers(data, ct);
        var pending = settings.Seeds.SelectMany(seed => settings.Methods.Select(method => (method, seed)))
            .Where(r => !File.Exists(Report.RunFile(settings, r.method, r.seed)))
            .ToArray();
        _logger.LogInformation("{Count} runs to do ({Methods} x seeds {Seeds}); {Parallel} at a time", pending.Length, string.Join(" ", settings.Methods), string.Join(",", settings.Seeds), settings.Parallel);
        if (settings.ChildProcesses)
        {
            using var gate = new SemaphoreSlim(settings.Parallel);
            await Task.WhenAll(pending.Select(async r =>
            {
                await gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    await RunChildAsync(r.method, r.seed, ct).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            })).ConfigureAwait(false);
        }
        else
        {
            var runner = new MethodRunner(settings, data, loggers);
            foreach (var (method, seed) in pending)
            {
                // In one process the peak memory is the process's so far, not the run's: left out.
                Report.WriteRun(Report.RunFile(settings, method, seed), runner.Run(method, seed, ct) with { PeakMemoryMiB = null });
            }
        }

        var runs = Report.ReadRuns(settings);
        var stepTimes = Report.ReadJson<List<StepTimeRound>>(Path.Combine(settings.OutputDirectory, "step-time.json"));
        Console.WriteLine(Report.WriteSummary(settings, runs, teachers, stepTimes is null ? null : Summary.StepTimeRatios(stepTimes)));
        return runs;
    }

    /// <summary>Trains (or loads) the teacher and, for multi-teacher, the second teacher; records their accuracy.</summary>
    public IReadOnlyList<TeacherRecord> PrepareTeachers(ComparisonData data, CancellationToken ct)
    {
        var records = new List<TeacherRecord>();
        var prepare = new Teachers(settings, data, loggers);
        var file = Path.Combine(settings.OutputDirectory, "teachers.json");
        var known = settings.RetrainTeacher ? null : Report.ReadJson<List<TeacherRecord>>(file);
        bool Known(string name, string teacherFile) =>
            File.Exists(teacherFile) && known?.Any(r => r.Name == name && !double.IsNaN(r.TestAccuracy)) == true;

        // A segment run into an output directory whose teachers are already recorded reuses the records (evaluating a
        // teacher on the test set costs minutes on a loaded CPU).
        var needSecond = settings.Methods.Contains("multi-teacher") || File.Exists(settings.SecondTeacherFile);
        if (Known("teacher", settings.TeacherFile) && (!needSecond || Known("teacher2", settings.SecondTeacherFile)))
        {
            _logger.LogInformation("Teachers recorded in {File}", file);
            return known!;
        }

        // The second teacher first: it is the cheaper one, so a --teachers-only run can be split across processes.
        if (needSecond)
        {
            using var second = Networks.SecondTeacher(settings);
            records.Add(prepare.PrepareSecond(second, ct));
        }

        using (var teacher = Networks.Teacher(settings))
        {
            records.Insert(0, prepare.PrepareMain(teacher, ct));
        }

        Report.WriteJson(file, records);
        return records;
    }

    private async Task RunChildAsync(string method, int seed, CancellationToken ct)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this program's executable.");
        start.FileName = self;
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        }

        foreach (var argument in forwardedArguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var argument in new[] { "--child", method, "--child-seed", seed.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        var log = Path.Combine(settings.RunsDirectory, string.Create(CultureInfo.InvariantCulture, $"{method}-seed{seed}.log"));
        Directory.CreateDirectory(settings.RunsDirectory);
        _logger.LogInformation("Starting {Method} seed {Seed} (log {Log})", method, seed, log);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{self}'.");
        await using var writer = new StreamWriter(log);
        var output = Copy(process.StandardOutput, writer);
        var errors = Copy(process.StandardError, writer);
        await process.WaitForExitAsync(ct).ConfigureAwait(false);
        await Task.WhenAll(output, errors).ConfigureAwait(false);
        if (process.ExitCode != 0 || !File.Exists(Report.RunFile(settings, method, seed)))
        {
            _logger.LogError("{Method} seed {Seed} failed (exit code {Code}); see {Log}", method, seed, process.ExitCode, log);
            return;
        }

        var run = Report.ReadRun(Report.RunFile(settings, method, seed));
        _logger.LogInformation("{Method} seed {Seed}: last {Last:P2}, best-validation epoch {Best:P2}, {Seconds:F0} s, peak {Memory:F0} MiB", method, seed, run.LastAccuracy, run.BestValidationEpochAccuracy, run.TrainSeconds, run.PeakMemoryMiB ?? double.NaN);
    }

    private static async Task Copy(StreamReader from, StreamWriter to)
    {
        while (await from.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (to)
            {
                to.WriteLine(line);
            }
        }
    }
}
