using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Benchmarks;

/// <summary>The engine measurements: step overhead, teacher cache, resident memory. Networks and data are the sample's.</summary>
internal sealed class EngineBenchmarks : IDisposable
{
    private const int BatchSize = 128;
    private readonly FashionMnistData _data;
    private readonly string _output;
    private readonly SmallCnn _teacher = SmallCnn.Teacher();

    public EngineBenchmarks(string? dataDirectory, string output)
    {
        _data = FashionMnist.Load(new FashionMnistOptions { Directory = dataDirectory });
        _output = output;
        _teacher.eval();
        Console.WriteLine($"torch threads: {get_num_threads()}, cores: {Environment.ProcessorCount}");
    }

    public void Dispose()
    {
        _teacher.Dispose();
        _data.Dispose();
    }

    /// <summary>Distiller.Fit vs a hand-written loop, the same KD step (teacher forward + student step), 5 rounds of 100 steps each.</summary>
    public void StepOverhead()
    {
        const int steps = 100;
        const int rounds = 7;
        using var subset = _data.Train.Take(steps * BatchSize);
        var fit = new List<double>();
        var hand = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            hand.Add(HandWrittenLoop(subset, steps));
            fit.Add(DistillerLoop(subset));
        }

        // Round 0 warms up both (allocator, kernels); it is reported but not used.
        var ratios = fit.Zip(hand, (f, h) => f / h).Skip(1).ToArray();
        var result = new
        {
            benchmark = "step",
            stepsPerRound = steps,
            batchSize = BatchSize,
            fitMillisecondsPerStep = fit.Select(t => t * 1000 / steps).ToArray(),
            handMillisecondsPerStep = hand.Select(t => t * 1000 / steps).ToArray(),
            ratioMedian = Median(ratios),
            ratios,
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step: Fit {Median(fit.Skip(1)) * 1000 / steps:F2} ms/step, hand-written {Median(hand.Skip(1)) * 1000 / steps:F2} ms/step, ratio (median of rounds) {result.ratioMedian:F3}"));
        Write("engine-step-overhead.json", result);
    }

    /// <summary>CRD's step and bank-update cost next to KD (100 steps per round, alternating).</summary>
    public void Crd(int rounds, int negatives) => Write("crd-cost.json", CrdBenchmark.Run(_data, _teacher, BatchSize, rounds, 100, negatives));

    /// <summary>Epoch time of KD with the cached teacher (after its first epoch) vs student alone vs uncached KD.</summary>
    public void CachedEpochs()
    {
        const int rounds = 3;
        var alone = new List<double>();
        var cached = new List<double>();
        var uncached = new List<double>();
        var loader = new DataLoader(_data.Train, BatchSize, seed: 1);
        using var teacher = Teacher.FromModule(_teacher);
        using var cache = teacher.WithOutputCache(_data.Train.Count);
        EpochSeconds(new[] { (IDistillationModel)cache }, loader, Loss.Hinton(4, 0.9), epochs: 1); // fill the cache once
        for (var round = 0; round < rounds; round++)
        {
            alone.Add(EpochSeconds(Array.Empty<IDistillationModel>(), loader, new CrossEntropyLoss(), 1));
            cached.Add(EpochSeconds(new[] { (IDistillationModel)cache }, loader, Loss.Hinton(4, 0.9), 1));
            uncached.Add(EpochSeconds(new[] { (IDistillationModel)teacher }, loader, Loss.Hinton(4, 0.9), 1));
        }

        var result = new
        {
            benchmark = "cache",
            aloneSeconds = alone,
            cachedSeconds = cached,
            uncachedSeconds = uncached,
            cachedOverAlone = Median(cached.Zip(alone, (c, a) => c / a)),
            uncachedOverCached = Median(uncached.Zip(cached, (u, c) => u / c)),
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cache: student alone {Median(alone):F2} s/epoch, cached KD {Median(cached):F2}, uncached KD {Median(uncached):F2}; cached/alone {result.cachedOverAlone:F3}, uncached/cached {result.uncachedOverCached:F2}"));
        Write("engine-teacher-cache.json", result);
    }

    /// <summary>
    /// Epoch time of KD with a disk (memory-mapped) teacher cache, after its first epoch, vs student alone, alternating
    /// in <paramref name="rounds"/> rounds; what a disk cache's per-row reads (and checks) cost on a cached epoch.
    /// <paramref name="samples"/> limits the epoch to the first training samples (0: all 60,000) for a quicker run.
    /// </summary>
    public void CachedDiskEpochs(int rounds = 3, int samples = 0)
    {
        var alone = new List<double>();
        var cached = new List<double>();
        using var train = _data.Train.Take(samples > 0 ? Math.Min(samples, (int)_data.Train.Count) : (int)_data.Train.Count);
        var loader = new DataLoader(train, BatchSize, seed: 1);
        var file = Path.Combine(Path.GetTempPath(), $"kd-bench-cache-{Environment.ProcessId}.cache");
        try
        {
            using var teacher = Teacher.FromModule(_teacher);
            using var cache = teacher.WithOutputCache(train.Count, new TeacherCacheOptions { Storage = TeacherCacheStorage.Disk, FilePath = file });
            EpochSeconds(new[] { (IDistillationModel)cache }, loader, Loss.Hinton(4, 0.9), epochs: 1); // fill the cache once
            for (var round = 0; round < rounds; round++)
            {
                alone.Add(EpochSeconds(Array.Empty<IDistillationModel>(), loader, new CrossEntropyLoss(), 1));
                cached.Add(EpochSeconds(new[] { (IDistillationModel)cache }, loader, Loss.Hinton(4, 0.9), 1));
            }
        }
        finally
        {
            File.Delete(file);
        }

        var result = new
        {
            benchmark = "cache-disk",
            samples = train.Count,
            aloneSeconds = alone,
            cachedSeconds = cached,
            cachedOverAlone = Median(cached.Zip(alone, (c, a) => c / a)),
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cache-disk: student alone {Median(alone):F2} s/epoch, cached KD (disk) {Median(cached):F2}; cached/alone {result.cachedOverAlone:F3}"));
        Write("engine-teacher-cache-disk.json", result);
    }

    /// <summary>Resident set size every 100 steps over 10,000 KD steps (cached teacher), growth after a 1,000-step warm-up.</summary>
    public void ResidentMemory(int totalSteps = 10_000)
    {
        var loader = new DataLoader(_data.Train, BatchSize, seed: 2, dropLast: true);
        var epochs = (int)Math.Ceiling(totalSteps / (double)loader.BatchCount);
        using var teacher = Teacher.FromModule(_teacher);
        using var cache = teacher.WithOutputCache(_data.Train.Count);
        random.manual_seed(3);
        using var studentNet = SmallCnn.Student();
        using var student = Student.FromModule(studentNet);
        var options = new DistillerOptions { Epochs = epochs, Seed = 3 };
        var distiller = new Distiller(cache, student, Loss.Hinton(4, 0.9), options);
        var samples = new List<(long Step, double MiB, long Tensors, double ManagedMiB)>();
        distiller.Callbacks.Add(new StepSampler(totalSteps, samples));
        var clock = Stopwatch.StartNew();
        try
        {
            distiller.Fit(loader);
        }
        catch (OperationCanceledException)
        {
            // StepSampler cancels after the last sampled step.
        }

        var warmUp = Math.Min(1000, totalSteps / 2);
        var afterWarmUp = samples.First(s => s.Step >= warmUp).MiB;
        var last = samples[^1].MiB;
        var peakAfterWarmUp = samples.Where(s => s.Step >= warmUp).Max(s => s.MiB);
        var result = new
        {
            benchmark = "memory",
            steps = samples[^1].Step,
            seconds = clock.Elapsed.TotalSeconds,
            rssMiBAfterWarmUp = afterWarmUp,
            rssMiBLast = last,
            rssMiBPeakAfterWarmUp = peakAfterWarmUp,
            growthPercent = (last - afterWarmUp) / afterWarmUp * 100,
            peakGrowthPercent = (peakAfterWarmUp - afterWarmUp) / afterWarmUp * 100,
            curve = samples.Select(s => new { step = s.Step, rssMiB = s.MiB, liveTensors = s.Tensors, managedHeapMiB = s.ManagedMiB }),
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"memory: {result.steps} steps in {result.seconds:F0} s; RSS {afterWarmUp:F1} MiB after 1,000 steps, {last:F1} MiB at the end ({result.growthPercent:+0.00;-0.00}%), peak {result.peakGrowthPercent:+0.00;-0.00}%"));
        Write("engine-resident-memory.json", result);
    }

    private double HandWrittenLoop(TensorDataset subset, int steps)
    {
        random.manual_seed(10);
        using var student = SmallCnn.Student();
        using var optimizer = optim.SGD(student.parameters(), 0.05, 0.9, weight_decay: 5e-4, nesterov: true);
        var loader = new DataLoader(subset, BatchSize, seed: 11);
        student.train();
        var clock = Stopwatch.StartNew();
        foreach (var _ in Enumerable.Range(0, 1))
        {
            using var batches = loader.GetBatches(0, CPU).GetEnumerator();
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!batches.MoveNext())
                {
                    break;
                }

                var batch = batches.Current;
                Tensor teacherLogits;
                using (no_grad())
                {
                    teacherLogits = _teacher.call(batch.Inputs);
                }

                var logits = student.call(batch.Inputs);
                var loss = 0.1 * CrossEntropyLoss.Value(logits, batch.Targets!) + 0.9 * KDLoss.Value(logits, teacherLogits, 4);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
        }

        return clock.Elapsed.TotalSeconds;
    }

    private double DistillerLoop(TensorDataset subset)
    {
        random.manual_seed(10);
        using var studentNet = SmallCnn.Student();
        using var teacher = Teacher.FromModule(_teacher);
        using var student = Student.FromModule(studentNet);
        var options = new DistillerOptions { Epochs = 1, Optimizer = new OptimizerOptions { LearningRate = 0.05, Nesterov = true } };
        var distiller = new Distiller(teacher, student, Loss.Hinton(4, 0.9), options);
        var clock = Stopwatch.StartNew();
        distiller.Fit(new DataLoader(subset, BatchSize, seed: 11));
        return clock.Elapsed.TotalSeconds;
    }

    private static double EpochSeconds(IDistillationModel[] teachers, IBatchSource loader, IDistillationLoss loss, int epochs)
    {
        random.manual_seed(20);
        using var studentNet = SmallCnn.Student();
        using var student = Student.FromModule(studentNet);
        var distiller = new Distiller(teachers.Append(student), loss, new DistillerOptions { Epochs = epochs });
        var result = distiller.Fit(loader);
        return result.History.Average(h => h.Duration.TotalSeconds);
    }

    private void Write(string file, object result)
    {
        var path = Path.Combine(_output, file);
        File.WriteAllText(path, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"  -> {path}");
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Samples the resident set size every 100 steps and stops the run after the last one.</summary>
    private sealed class StepSampler(int totalSteps, List<(long Step, double MiB, long Tensors, double ManagedMiB)> samples) : IDistillationCallback
    {
        public void OnStepEnd(StepInfo step)
        {
            var done = step.Step + 1;
            if (done % 100 == 0)
            {
                using var process = Process.GetCurrentProcess();
                samples.Add((done, process.WorkingSet64 / (1024.0 * 1024.0), Tensor.TotalCount, GC.GetTotalMemory(false) / (1024.0 * 1024.0)));
            }

            if (done >= totalSteps)
            {
                throw new OperationCanceledException("The benchmark's step budget is reached.");
            }
        }
    }
}
