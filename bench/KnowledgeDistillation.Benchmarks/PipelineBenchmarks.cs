using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Benchmarks;

/// <summary>
/// The data pipeline: a KD epoch in the Fashion-MNIST sample's setting (5,000 training images read from the IDX files,
/// batch 128, teacher SmallCnn.Teacher run every step, the sample's "small" student) with augmentation (random crop
/// 28 with padding 2, horizontal flip, normalisation), loaded on the training thread (Workers = 0) vs prefetched by
/// 1 and 2 workers, alternating in rounds; and the share of a step the training thread spends waiting for data.
/// </summary>
internal sealed class PipelineBenchmarks(string? dataDirectory, string output)
{
    private const int BatchSize = 128;

    public void Run(int rounds, int samples)
    {
        var directory = dataDirectory ?? Environment.GetEnvironmentVariable(FashionMnist.EnvironmentVariable) ?? FashionMnist.SystemDirectory;
        var images = IdxReader.Read(Path.Combine(directory, "train-images-idx3-ubyte.gz"));
        var labels = IdxReader.Read(Path.Combine(directory, "train-labels-idx1-ubyte.gz"));
        var full = new IdxDataset(images, labels);
        var dataset = Dataset.FromFunction(Math.Min(samples, full.Count), full.Get, full.ClassCount);
        using var teacherNet = SmallCnn.Teacher();
        teacherNet.eval();
        var variants = new[] { 0, 1, 2 };
        var epochs = variants.ToDictionary(w => w, _ => new List<double>());
        var waits = variants.ToDictionary(w => w, _ => new List<double>());
        var pauses = variants.ToDictionary(w => w, _ => new List<double>());
        Console.WriteLine($"torch threads: {get_num_threads()}, cores: {Environment.ProcessorCount}, samples: {dataset.Count}");
        for (var round = 0; round < rounds; round++)
        {
            foreach (var workers in round % 2 == 0 ? variants : variants.Reverse().ToArray())
            {
                var pausedBefore = GC.GetTotalPauseDuration();
                var gen2Before = GC.CollectionCount(2);
                var (seconds, waited) = Epoch(teacherNet, dataset, workers, round);
                var paused = (GC.GetTotalPauseDuration() - pausedBefore).TotalSeconds;
                epochs[workers].Add(seconds);
                waits[workers].Add(waited);
                pauses[workers].Add(paused);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  round {round} workers {workers}: epoch {seconds:F2} s, training thread waited for data {waited:F2} s ({100 * waited / seconds:F1} %), " +
                    $"GC pauses {paused:F2} s ({GC.CollectionCount(2) - gen2Before} gen-2), load {LoadAverage()}"));
            }
        }

        // Round 0 warms up (allocator, kernels, page cache); it is reported but not used in the medians.
        var result = new
        {
            benchmark = "pipeline",
            samples = dataset.Count,
            batchSize = BatchSize,
            rounds,
            epochSeconds = epochs.ToDictionary(p => $"workers{p.Key}", p => p.Value),
            dataWaitSeconds = waits.ToDictionary(p => $"workers{p.Key}", p => p.Value),
            gcPauseSeconds = pauses.ToDictionary(p => $"workers{p.Key}", p => p.Value),
            prefetch1OverSync = Median(epochs[1].Zip(epochs[0], (a, b) => a / b).Skip(1)),
            prefetch2OverSync = Median(epochs[2].Zip(epochs[0], (a, b) => a / b).Skip(1)),
            syncDataShare = Median(waits[0].Zip(epochs[0], (w, e) => w / e).Skip(1)),
            prefetch1DataShare = Median(waits[1].Zip(epochs[1], (w, e) => w / e).Skip(1)),
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pipeline: epoch sync {Median(epochs[0].Skip(1)):F2} s, 1 worker {Median(epochs[1].Skip(1)):F2} s, 2 workers {Median(epochs[2].Skip(1)):F2} s; " +
            $"ratios 1 worker/sync {result.prefetch1OverSync:F3}, 2 workers/sync {result.prefetch2OverSync:F3}; data share of a step: sync {100 * result.syncDataShare:F1} %, 1 worker {100 * result.prefetch1DataShare:F1} %"));
        var path = Path.Combine(output, "pipeline-prefetch.json");
        File.WriteAllText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"  -> {path}");
    }

    private static (double Seconds, double Waited) Epoch(SmallCnn teacherNet, IDataset dataset, int workers, int round)
    {
        var options = new DataPipelineOptions { BatchSize = BatchSize, Seed = round, Workers = workers, PrefetchBatches = 4 };
        options.Transforms.Add(new RandomCrop(28, 28, padding: 2));
        options.Transforms.Add(new RandomHorizontalFlip());
        options.Transforms.Add(new Normalize([FashionMnist.TrainMean], [FashionMnist.TrainStd]));
        var timed = new TimedSource(new DataPipeline(dataset, options));
        random.manual_seed(20);
        using var studentNet = new SmallCnn(new[] { 8, 16 });
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        using var distiller = new Distiller(teacher, student, Loss.Hinton(4, 0.9), new DistillerOptions { Epochs = 1, Seed = 1 });
        var clock = Stopwatch.StartNew();
        distiller.Fit(timed);
        return (clock.Elapsed.TotalSeconds, timed.Waited.TotalSeconds);
    }

    /// <summary>The 1-minute load average where Linux reports it.</summary>
    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Measures the time the training thread spends inside the source's MoveNext (waiting for or building batches).</summary>
    private sealed class TimedSource(IBatchSource inner) : IBatchSource
    {
        private readonly Stopwatch _waited = new();

        public TimeSpan Waited => _waited.Elapsed;

        public long SampleCount => inner.SampleCount;

        public int BatchCount => inner.BatchCount;

        public int? ClassCount => inner.ClassCount;

        public IEnumerable<Batch> GetBatches(int epoch, Device device)
        {
            using var batches = inner.GetBatches(epoch, device).GetEnumerator();
            while (true)
            {
                _waited.Start();
                var more = batches.MoveNext();
                _waited.Stop();
                if (!more)
                {
                    yield break;
                }

                yield return batches.Current;
            }
        }
    }
}
