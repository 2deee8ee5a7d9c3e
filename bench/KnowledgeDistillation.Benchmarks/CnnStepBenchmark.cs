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
/// The KD step of issue 12 (teacher: conv 64 -> 128 channels + 128-unit head, eval mode; student: conv 16 -> 32 + linear
/// head; batch 128 of 28x28 Fashion-MNIST; 0.1 CE + 0.9 KD(T=4); SGD 0.05, momentum 0.9, Nesterov, weight decay 5e-4)
/// at one thread count, as one JSON line, for a side-by-side ratio with bench/pytorch_kd_step.py --cnn. Besides the step
/// through <see cref="Distiller.Fit"/> it times the pieces that locate a difference: the same step written by hand, the
/// teacher forward alone (module.call under no_grad, module.forward, under inference_mode, and through the
/// <see cref="Teacher"/> participant), and a student-only step.
/// </summary>
internal sealed class CnnStepBenchmark
{
    private const int BatchSize = 128;
    private readonly FashionMnistData _data;

    public CnnStepBenchmark(FashionMnistData data) => _data = data;

    public static SmallCnn CnnTeacher() => new(new[] { 64, 128 }, hidden: 128, dropout: 0.25);

    public static SmallCnn CnnStudent() => new(new[] { 16, 32 }, hidden: 0);

    public void Run(int threads, int steps, int rounds, string? outFile)
    {
        set_num_threads(threads);
        random.manual_seed(0);
        using var teacherNet = CnnTeacher();
        teacherNet.eval();
        using var subset = _data.Train.Take(steps * BatchSize);
        var inputs = Enumerable.Range(0, steps).Select(i => subset.Inputs.narrow(0, i * BatchSize, BatchSize).clone().DetachFromDisposeScope()).ToArray();
        var results = new Dictionary<string, List<double>>
        {
            ["fit"] = new(), ["hand"] = new(), ["teacherCall"] = new(), ["teacherForward"] = new(), ["teacherInference"] = new(),
            ["teacherParticipant"] = new(), ["studentOnlyFit"] = new(), ["studentOnlyHand"] = new(), ["handTeacherScoped"] = new(),
        };
        var faults = results.Keys.ToDictionary(k => k, _ => new List<double>());
        var cpu = results.Keys.ToDictionary(k => k, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            using var participant = Teacher.FromModule(teacherNet);
            var runs = new (string Name, Func<double> Run)[]
            {
                ("fit", () => FitStep(teacherNet, subset, steps, withTeacher: true)),
                ("hand", () => HandStep(teacherNet, subset, steps, withTeacher: true)),
                ("handTeacherScoped", () => HandStep(teacherNet, subset, steps, withTeacher: true, scopedTeacher: true)),
                ("studentOnlyFit", () => FitStep(teacherNet, subset, steps, withTeacher: false)),
                ("studentOnlyHand", () => HandStep(teacherNet, subset, steps, withTeacher: false)),
                ("teacherCall", () => TeacherForward(inputs, x => { using var g = no_grad(); return teacherNet.call(x); })),
                ("teacherForward", () => TeacherForward(inputs, x => { using var g = no_grad(); return teacherNet.forward(x); })),
                ("teacherInference", () => TeacherForward(inputs, x => { using var g = inference_mode(); return teacherNet.call(x); })),
                ("teacherParticipant", () => TeacherForward(inputs, x => { using var g = no_grad(); return participant.Forward(new Batch(x, null, arange(BatchSize))).Logits!; })),
            };
            foreach (var (name, run) in runs)
            {
                var before = MinorFaults();
                var cpuBefore = CpuMilliseconds();
                results[name].Add(run());
                cpu[name].Add((CpuMilliseconds() - cpuBefore) / steps);
                faults[name].Add((MinorFaults() - before) / (double)steps);
            }
        }

        foreach (var x in inputs)
        {
            x.Dispose();
        }

        // Round 0 warms up (allocator, kernels): reported, not used in the median.
        var medians = results.ToDictionary(r => r.Key, r => Median(r.Value.Skip(rounds > 1 ? 1 : 0)));
        var line = JsonSerializer.Serialize(new
        {
            benchmark = "torchsharp-cnn-kd-step",
            threads = get_num_threads(),
            steps,
            time = DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
            load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
            msMedian = medians,
            // Processor time of the whole process per step, warm-up steps and setup included: on a shared machine it
            // moves far less with the load than wall time does (at 1 thread; with 2, waiting OpenMP threads spin).
            cpuMsMedian = cpu.ToDictionary(f => f.Key, f => Median(f.Value.Skip(rounds > 1 ? 1 : 0))),
            minorFaultsPerStepMedian = faults.ToDictionary(f => f.Key, f => Median(f.Value.Skip(rounds > 1 ? 1 : 0))),
            msRounds = results,
        });
        Console.WriteLine(line);
        if (outFile is not null)
        {
            File.AppendAllText(outFile, line + Environment.NewLine);
        }
    }

    /// <summary>ms per step of Fit, from the end of step 5 to the end of the last step (setup excluded).</summary>
    private static double FitStep(SmallCnn teacherNet, TensorDataset subset, int steps, bool withTeacher)
    {
        random.manual_seed(10);
        using var studentNet = CnnStudent();
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var options = new DistillerOptions { Epochs = 1, Threads = null, Optimizer = new OptimizerOptions { LearningRate = 0.05, Nesterov = true } };
        var participants = withTeacher ? new IDistillationModel[] { teacher, student } : new IDistillationModel[] { student };
        IDistillationLoss loss = withTeacher ? Loss.Hinton(4, 0.9) : new CrossEntropyLoss();
        using var distiller = new Distiller(participants, loss, options);
        var clock = new StepClock();
        distiller.Callbacks.Add(clock);
        distiller.Fit(new DataLoader(subset, BatchSize, seed: 11));
        return clock.MillisecondsPerStep;
    }

    private static double CpuMilliseconds()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime.TotalMilliseconds;
    }

    /// <summary>Minor page faults of this process so far (field 10 of /proc/self/stat; 0 where there is none).</summary>
    private static long MinorFaults()
    {
        if (!File.Exists("/proc/self/stat"))
        {
            return 0;
        }

        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);
    }

    private static double HandStep(SmallCnn teacherNet, TensorDataset subset, int steps, bool withTeacher, bool scopedTeacher = false)
    {
        random.manual_seed(10);
        using var student = CnnStudent();
        using var optimizer = optim.SGD(student.parameters(), 0.05, 0.9, weight_decay: 5e-4, nesterov: true);
        student.train();
        var loader = new DataLoader(subset, BatchSize, seed: 11);
        var clock = new Stopwatch();
        var counted = 0;
        var index = 0;
        using var batches = loader.GetBatches(0, CPU).GetEnumerator();
        while (true)
        {
            using var scope = NewDisposeScope();
            if (!batches.MoveNext())
            {
                break;
            }

            if (index++ == StepClock.WarmUpSteps)
            {
                clock.Start();
            }

            var batch = batches.Current;
            var logits = student.call(batch.Inputs);
            Tensor loss;
            if (withTeacher)
            {
                Tensor teacherLogits;
                using (no_grad())
                {
                    if (scopedTeacher)
                    {
                        // The teacher's intermediate activations are released as soon as its forward returns.
                        using var teacherScope = NewDisposeScope();
                        teacherLogits = teacherScope.MoveToOuter(teacherNet.call(batch.Inputs));
                    }
                    else
                    {
                        teacherLogits = teacherNet.call(batch.Inputs);
                    }
                }

                loss = 0.1 * CrossEntropyLoss.Value(logits, batch.Targets!) + 0.9 * KDLoss.Value(logits, teacherLogits, 4);
            }
            else
            {
                loss = CrossEntropyLoss.Value(logits, batch.Targets!);
            }

            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (clock.IsRunning)
            {
                counted++;
            }
        }

        return clock.Elapsed.TotalMilliseconds / counted;
    }

    private static double TeacherForward(Tensor[] inputs, Func<Tensor, Tensor> forward)
    {
        var clock = new Stopwatch();
        for (var i = 0; i < inputs.Length; i++)
        {
            if (i == StepClock.WarmUpSteps)
            {
                clock.Start();
            }

            using var scope = NewDisposeScope();
            forward(inputs[i]);
        }

        return clock.Elapsed.TotalMilliseconds / (inputs.Length - StepClock.WarmUpSteps);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Times Fit's steps after a warm-up.</summary>
    private sealed class StepClock : IDistillationCallback
    {
        public const int WarmUpSteps = 5;
        private readonly Stopwatch _clock = new();
        private int _counted;

        public double MillisecondsPerStep => _clock.Elapsed.TotalMilliseconds / _counted;

        public void OnStepEnd(StepInfo step)
        {
            if (step.BatchInEpoch + 1 == WarmUpSteps)
            {
                _clock.Start();
            }
            else if (_clock.IsRunning)
            {
                _counted++;
            }
        }
    }
}
