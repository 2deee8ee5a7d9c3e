using System.Globalization;
using System.Text;
using KnowledgeDistillation.Fuzz;
using SharpFuzz;

// The fuzzing harness; docs/fuzzing.md describes the commands.
return Cli.Run(args);

/// <summary>Command-line entry: seeds, run (the built-in driver), worker (its child), replay, afl and libfuzzer (SharpFuzz).</summary>
internal static class Cli
{
    private const string Usage = """
        usage: KnowledgeDistillation.Fuzz <command>
          list                              the targets
          seeds <dir>                       write each target's seed corpus to <dir>/<target>/
          run [options]                     mutate seeds and run each target in a supervised child process
              --targets a,b                 targets (default: all)
              --inputs N                    inputs per target (default 2000)
              --seed S                      the run's seed (default 1)
              --timeout-seconds T           per input before it counts as a hang (default 10)
              --budget-seconds B            stop a target after B seconds (default: none)
              --max-rss-mb M                a child's peak RSS above M MiB is a finding (default 2048)
              --heap-limit-mb H             the child's managed heap limit (default 1024)
              --corpus <dir>                seeds from <dir>/<target>/ instead of generating them
              --findings <dir>              where failing inputs are saved (default fuzz-findings)
              --report <file>               also write the summary table (Markdown) to <file>
          selftest [dir]                    check that the driver classifies every outcome (abort, hang, ...)
          replay <target> <file>            run one input in this process and print its outcome
          afl <target>                      SharpFuzz entry point for AFL++ (afl-fuzz ... -- <this> afl <target>)
          libfuzzer <target>                SharpFuzz entry point for libfuzzer-dotnet
        with no arguments, KD_FUZZ_TARGET=<target> (and KD_FUZZ_ENGINE=afl|libfuzzer, default libfuzzer) select the entry point
        """;

    public static int Run(string[] args)
    {
        if (args.Length == 0 && Environment.GetEnvironmentVariable("KD_FUZZ_TARGET") is { Length: > 0 } fromEnvironment)
        {
            // libfuzzer-dotnet passes only the assembly (--target_arg); the engine and target then come from the environment.
            args = new[] { Environment.GetEnvironmentVariable("KD_FUZZ_ENGINE") is { Length: > 0 } engine ? engine : "libfuzzer", fromEnvironment };
        }

        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        try
        {
            return args[0] switch
            {
                "list" => List(),
                "seeds" when args.Length == 2 => Seeds(args[1]),
                "run" => RunDriver(Options(args.Skip(1).ToArray())),
                "worker" when args.Length == 2 => Worker.Run(args[1] == "selftest" ? new SelfTestTarget() : FuzzTargets.Get(args[1])),
                "selftest" => SelfTestTarget.Check(args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "kd-fuzz-selftest")),
                "replay" when args.Length == 3 => Replay(FuzzTargets.Get(args[1]), args[2]),
                "afl" when args.Length == 2 => Afl(FuzzTargets.Get(args[1])),
                "libfuzzer" when args.Length == 2 => LibFuzzer(FuzzTargets.Get(args[1])),
                _ => BadUsage(),
            };
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }

    private static int BadUsage()
    {
        Console.Error.WriteLine(Usage);
        return 2;
    }

    private static int List()
    {
        foreach (var target in FuzzTargets.All)
        {
            Console.WriteLine($"{target.Name,-14} {target.Api}");
        }

        return 0;
    }

    private static int Seeds(string directory)
    {
        foreach (var target in FuzzTargets.All)
        {
            var folder = Path.Combine(directory, target.Name);
            Directory.CreateDirectory(folder);
            var scratch = Directory.CreateTempSubdirectory($"kd-fuzz-seeds-{target.Name}-").FullName;
            try
            {
                var seeds = target.CreateSeeds(scratch);
                KnowledgeDistillation.Fuzz.Seeds.Verify(target, seeds, scratch);
                foreach (var (name, data) in seeds)
                {
                    File.WriteAllBytes(Path.Combine(folder, name), data);
                }
            }
            finally
            {
                Directory.Delete(scratch, recursive: true);
            }

            Console.WriteLine($"{target.Name}: {Directory.GetFiles(folder).Length} seed(s) in {folder}");
        }

        return 0;
    }

    private static int RunDriver(DriverOptions options)
    {
        var (reportPath, driverOptions) = (options.ReportPath, options);
        Console.WriteLine(
            $"fuzz run: {driverOptions.Targets.Count} target(s), {driverOptions.Inputs} inputs each, seed {driverOptions.Seed}, " +
            $"timeout {driverOptions.Timeout.TotalSeconds:0.#} s, max RSS {driverOptions.MaxResidentBytes >> 20} MiB, heap limit {driverOptions.HeapLimitBytes >> 20} MiB");
        var reports = new Driver(driverOptions, Console.Out).Run();
        var table = Table(reports);
        Console.WriteLine();
        Console.WriteLine(table);
        if (reportPath is not null)
        {
            File.WriteAllText(reportPath, table);
        }

        var findings = reports.Sum(r => r.FindingCount);
        if (findings > 0)
        {
            Console.WriteLine($"{findings} finding(s); inputs saved in {driverOptions.FindingsDirectory}");
            return 1;
        }

        Console.WriteLine("no findings");
        return 0;
    }

    private static DriverOptions Options(string[] args)
    {
        var options = new DriverOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"Option '{args[i]}' needs a value.");
            options = args[i] switch
            {
                "--targets" => options with { Targets = value.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(FuzzTargets.Get).ToArray() },
                "--inputs" => options with { Inputs = Positive(args[i], value) },
                "--seed" => options with { Seed = ulong.Parse(value, CultureInfo.InvariantCulture) },
                "--timeout-seconds" => options with { Timeout = TimeSpan.FromSeconds(Positive(args[i], value)) },
                "--budget-seconds" => options with { BudgetPerTarget = TimeSpan.FromSeconds(Positive(args[i], value)) },
                "--max-rss-mb" => options with { MaxResidentBytes = (long)Positive(args[i], value) << 20 },
                "--heap-limit-mb" => options with { HeapLimitBytes = (long)Positive(args[i], value) << 20 },
                "--corpus" => options with { CorpusDirectory = value },
                "--findings" => options with { FindingsDirectory = value },
                "--report" => options with { ReportPath = value },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'.\n{Usage}"),
            };
            i++;
        }

        return options;
    }

    private static int Positive(string option, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"Option '{option}' needs a positive integer, not '{value}'.");

    private static string Table(IReadOnlyList<TargetReport> reports)
    {
        var text = new StringBuilder();
        text.AppendLine("| target | inputs | ok | documented | unexpected | crash | hang | memory | time (s) | peak RSS (MiB) | child starts |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in reports)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Target} | {r.Inputs} | {r.Counts[Outcome.Ok]} | {r.Counts[Outcome.Documented]} | {r.Counts[Outcome.Unexpected]} | {r.Counts[Outcome.Crash]} | " +
                $"{r.Counts[Outcome.Hang]} | {r.Counts[Outcome.Memory]} | {r.Seconds:0.0} | {r.PeakResidentBytes >> 20} | {r.ChildStarts} |");
        }

        text.AppendLine();
        foreach (var r in reports)
        {
            var types = string.Join(", ", r.DocumentedTypes.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}"));
            text.AppendLine(CultureInfo.InvariantCulture, $"- {r.Target}: documented refusals: {(types.Length > 0 ? types : "none")}");
            foreach (var finding in r.Findings.Take(5))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  - finding: {finding}");
            }
        }

        return text.ToString();
    }

    private static int Replay(FuzzTarget target, string file)
    {
        var scratch = Directory.CreateTempSubdirectory($"kd-fuzz-replay-{target.Name}-").FullName;
        try
        {
            var (outcome, detail) = Execution.Classify(target, File.ReadAllBytes(file), scratch);
            Console.WriteLine($"{target.Name} {Path.GetFileName(file)}: {outcome} {detail}");
            return outcome == Outcome.Unexpected ? 1 : 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static int Afl(FuzzTarget target)
    {
        var scratch = Directory.CreateTempSubdirectory($"kd-fuzz-afl-{target.Name}-").FullName;
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Execution.RunForFuzzer(target, copy.ToArray(), scratch);
        });
        return 0;
    }

    private static int LibFuzzer(FuzzTarget target)
    {
        var scratch = Directory.CreateTempSubdirectory($"kd-fuzz-libfuzzer-{target.Name}-").FullName;
        Fuzzer.LibFuzzer.Run(span => Execution.RunForFuzzer(target, span.ToArray(), scratch));
        return 0;
    }
}
