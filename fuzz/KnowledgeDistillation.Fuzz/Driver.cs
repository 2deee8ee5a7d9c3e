using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace KnowledgeDistillation.Fuzz;

/// <summary>
/// The built-in mutation driver: per target, builds the seeds, derives the mutated inputs and runs them in a supervised
/// child process (<see cref="Worker"/>). A child that dies is a crash, one that does not answer within the timeout a
/// hang (it is killed), one whose peak resident memory passes the limit a memory finding; after each the child is
/// restarted and the input saved. Exceptions other than the documented ones are findings too.
/// </summary>
internal sealed class Driver(DriverOptions options, TextWriter log)
{
    /// <summary>Runs every target; returns the reports.</summary>
    public IReadOnlyList<TargetReport> Run()
    {
        Directory.CreateDirectory(options.FindingsDirectory);
        return options.Targets.Select(RunTarget).ToArray();
    }

    private TargetReport RunTarget(FuzzTarget target)
    {
        var report = new TargetReport(target.Name);
        var seeds = LoadSeeds(target);
        var maxLength = (seeds.Max(s => s.Length) * options.GrowthFactor) + (64 << 10);
        var work = Directory.CreateTempSubdirectory($"kd-fuzz-driver-{target.Name}-").FullName;
        var current = Path.Combine(work, "input.bin");
        var watch = Stopwatch.StartNew();
        WorkerProcess? worker = null;
        var fresh = false;
        try
        {
            for (var i = 0; i < options.Inputs; i++)
            {
                if (options.BudgetPerTarget is { } budget && watch.Elapsed > budget)
                {
                    log.WriteLine($"  {target.Name}: time budget {budget.TotalSeconds:0} s reached after {i} inputs");
                    break;
                }

                var (input, recipe) = Mutator.Create(seeds, options.Seed, target.Name, i, maxLength);
                File.WriteAllBytes(current, input);
                if (worker is null)
                {
                    worker = WorkerProcess.Start(target.Name, options.HeapLimitBytes);
                    report.ChildStarts++;
                    fresh = true;
                    if (worker.Await(options.Startup, out _) != "READY")
                    {
                        throw new InvalidOperationException($"The worker for '{target.Name}' did not start: {worker.StderrTail}");
                    }
                }

                worker.Send(current);
                var line = worker.Await(fresh ? options.Timeout + options.Startup : options.Timeout, out var timedOut);
                fresh = false;
                report.Inputs++;
                if (line is null)
                {
                    string detail;
                    Outcome outcome;
                    if (timedOut)
                    {
                        worker.Kill();
                        outcome = Outcome.Hang;
                        detail = $"no answer within {options.Timeout.TotalSeconds:0.#} s";
                    }
                    else
                    {
                        worker.Kill();
                        outcome = Outcome.Crash;
                        detail = $"the child exited with code {SafeExitCode(worker)}";
                    }

                    report.PeakResidentBytes = Math.Max(report.PeakResidentBytes, worker.PeakResidentBytes());
                    Record(report, target, outcome, i, input, recipe, detail, worker.StderrTail);
                    worker.Dispose();
                    worker = null;
                    continue;
                }

                var parts = line.Split('\t', 3);
                var result = Enum.Parse<Outcome>(parts[0]);
                var message = parts.Length > 2 ? parts[2] : string.Empty;
                if (result == Outcome.Documented)
                {
                    var type = message.Split(':', 2)[0];
                    report.DocumentedTypes[type] = report.DocumentedTypes.GetValueOrDefault(type) + 1;
                }

                var peak = worker.PeakResidentBytes();
                report.PeakResidentBytes = Math.Max(report.PeakResidentBytes, peak);
                if (result == Outcome.Unexpected)
                {
                    Record(report, target, result, i, input, recipe, message, string.Empty);
                }
                else if (peak > options.MaxResidentBytes)
                {
                    Record(report, target, Outcome.Memory, i, input, recipe, $"peak resident memory {peak >> 20} MiB > {options.MaxResidentBytes >> 20} MiB ({result})", string.Empty);
                    worker.Kill();
                    worker.Dispose();
                    worker = null;
                }
                else
                {
                    report.Counts[result]++;
                }
            }
        }
        finally
        {
            worker?.Dispose();
            Directory.Delete(work, recursive: true);
        }

        report.Seconds = watch.Elapsed.TotalSeconds;
        log.WriteLine(
            $"  {target.Name}: {report.Inputs} inputs, ok {report.Counts[Outcome.Ok]}, documented {report.Counts[Outcome.Documented]}, " +
            $"findings {report.FindingCount}, {report.Seconds:0.0} s, peak RSS {report.PeakResidentBytes >> 20} MiB");
        return report;
    }

    private IReadOnlyList<byte[]> LoadSeeds(FuzzTarget target)
    {
        if (options.CorpusDirectory is { } corpus)
        {
            var directory = Path.Combine(corpus, target.Name);
            var files = Directory.Exists(directory) ? Directory.GetFiles(directory).Order(StringComparer.Ordinal).ToArray() : Array.Empty<string>();
            if (files.Length > 0)
            {
                return files.Select(File.ReadAllBytes).ToArray();
            }

            throw new InvalidOperationException($"The corpus directory '{directory}' has no seed files for target '{target.Name}'.");
        }

        var scratch = Directory.CreateTempSubdirectory($"kd-fuzz-seeds-{target.Name}-").FullName;
        try
        {
            var seeds = target.CreateSeeds(scratch);
            Seeds.Verify(target, seeds, scratch);
            return seeds.Select(s => s.Data).ToArray();
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private void Record(TargetReport report, FuzzTarget target, Outcome outcome, int index, byte[] input, string recipe, string detail, string stderr)
    {
        report.Counts[outcome]++;
        var name = $"{target.Name}-{outcome.ToString().ToLowerInvariant()}-{index:D6}";
        var file = Path.Combine(options.FindingsDirectory, name + ".bin");
        File.WriteAllBytes(file, input);
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"target: {target.Name}")
            .AppendLine(CultureInfo.InvariantCulture, $"outcome: {outcome}")
            .AppendLine(CultureInfo.InvariantCulture, $"input: {index} (seed {options.Seed}; {recipe})")
            .AppendLine(CultureInfo.InvariantCulture, $"detail: {detail}")
            .AppendLine(CultureInfo.InvariantCulture, $"replay: dotnet run --project fuzz/KnowledgeDistillation.Fuzz -c Release -- replay {target.Name} {file}")
            .AppendLine("stderr (tail):")
            .AppendLine(stderr);
        File.WriteAllText(Path.Combine(options.FindingsDirectory, name + ".txt"), text.ToString());
        report.Findings.Add($"{outcome} at input {index}: {detail}");
        log.WriteLine($"  FINDING {target.Name} {outcome} input {index}: {detail} (saved {file})");
    }

    private static string SafeExitCode(WorkerProcess worker)
    {
        try
        {
            return worker.ExitCode.ToString(CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "unknown";
        }
    }
}
