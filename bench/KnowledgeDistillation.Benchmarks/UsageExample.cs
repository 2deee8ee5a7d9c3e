using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;

namespace KnowledgeDistillation.Benchmarks;

/// <summary>The README's usage example as written (with its console progress), timed end to end, as one JSON line.</summary>
internal static class UsageExample
{
    public static void Run(string? dataDirectory, int? threads, string? outFile)
    {
        var clock = Stopwatch.StartNew();
        var loadBefore = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null;
        using var data = FashionMnist.Load(new FashionMnistOptions { Directory = dataDirectory });
        var train = new DataLoader(data.Train, batchSize: 128, seed: 0);
        var test = new DataLoader(data.Test, batchSize: 1000, shuffle: false);

        using var teacherNet = SmallCnn.Teacher();
        using var studentNet = SmallCnn.Student();
        var teacher = Teacher.FromModule(teacherNet);
        var student = Student.FromModule(studentNet);
        var result = new Distiller(new IDistillationModel[] { teacher, student }, new[]
        {
            new DistillationStage("teacher", new CrossEntropyLoss("teacher")) { Trainable = ["teacher"] },
            new DistillationStage("distill", 0.9 * new KDLoss(temperature: 4) + 0.1 * new CrossEntropyLoss()),
        }, new DistillerOptions { Epochs = 2, Threads = threads }).UseConsoleProgress().Fit(train, test);
        Console.WriteLine($"student accuracy: {result.FinalMetric("student"):P2}");

        var line = JsonSerializer.Serialize(new
        {
            benchmark = "readme-usage",
            threads = threads?.ToString(CultureInfo.InvariantCulture) ?? "default",
            seconds = clock.Elapsed.TotalSeconds,
            fitSeconds = result.WallTime.TotalSeconds,
            epochSeconds = result.History.Select(h => h.Duration.TotalSeconds),
            studentAccuracy = result.FinalMetric("student"),
            time = DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
            loadBefore,
            loadAfter = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
        });
        Console.WriteLine(line);
        if (outFile is not null)
        {
            File.AppendAllText(outFile, line + Environment.NewLine);
        }
    }
}
