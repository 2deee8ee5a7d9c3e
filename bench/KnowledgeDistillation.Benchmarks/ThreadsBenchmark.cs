using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Benchmarks;

/// <summary>
/// Seconds per KD epoch (the README's distillation stage: SmallCnn teacher and student, batch 128, Hinton T=4, alpha 0.9,
/// on the first <c>samples</c> training images) at each thread count of a list, alternating in rounds so load affects
/// each alike; thread count 0 stands for <see cref="DistillerOptions.Threads"/> = null (TorchSharp's default).
/// </summary>
internal sealed class ThreadsBenchmark
{
    private readonly FashionMnistData _data;

    public ThreadsBenchmark(FashionMnistData data) => _data = data;

    public void Run(int[] threadCounts, int samples, int rounds, string? outFile)
    {
        var defaultThreads = get_num_threads();
        random.manual_seed(0);
        using var teacherNet = SmallCnn.Teacher();
        using var subset = _data.Train.Take(Math.Min(samples, (int)_data.Train.Count));
        var seconds = threadCounts.ToDictionary(t => t, _ => new List<double>());
        var loads = new List<string>();
        for (var round = 0; round < rounds; round++)
        {
            foreach (var threads in threadCounts)
            {
                random.manual_seed(1);
                using var studentNet = SmallCnn.Student();
                using var teacher = Teacher.FromModule(teacherNet);
                using var student = Student.FromModule(studentNet);
                var options = new DistillerOptions { Epochs = 1, Threads = threads == 0 ? null : threads };
                using var distiller = new Distiller(teacher, student, Loss.Hinton(4, 0.9), options);
                var result = distiller.Fit(new DataLoader(subset, 128, seed: 2));
                seconds[threads].Add(result.History[0].Duration.TotalSeconds);
                loads.Add(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?");
            }
        }

        var line = JsonSerializer.Serialize(new
        {
            benchmark = "threads-kd-epoch",
            samples = subset.Count,
            torchDefaultThreads = defaultThreads,
            cores = Environment.ProcessorCount,
            time = DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
            loads,
            secondsPerEpoch = seconds.ToDictionary(s => s.Key == 0 ? "default" : s.Key.ToString(CultureInfo.InvariantCulture), s => s.Value),
        });
        Console.WriteLine(line);
        if (outFile is not null)
        {
            File.AppendAllText(outFile, line + Environment.NewLine);
        }
    }
}
