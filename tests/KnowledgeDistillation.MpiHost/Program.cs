// Child program of the MPI tests and the data-parallel benchmark. Commands (rank 0 prints the results):
//   train  --out FILE [--mpi] [--epochs N] [--checkpoint DIR] [--resume] [--kill-at-step S] [--disagree]
//          trains a student MLP with KD + CE + a loss with its own trainable projection on 96 synthetic samples
//          (global batch 16) and writes the student's and the projection's tensors to FILE (float32, name order).
//   cache  --out FILE [--mpi] [--batch B]   builds the teacher's disk cache (sharded over the ranks with --mpi).
//   bench  [--mpi] [--steps N] [--threads T] [--batch B]   times the Fashion-MNIST sample's KD step (SmallCnn teacher
//          and tiny student) on synthetic 28x28 inputs and reports throughput and the allreduce share.
using System.Diagnostics;
using System.Globalization;
using KnowledgeDistillation;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Distributed;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using TorchSharp;
using static TorchSharp.torch;

var command = args.Length > 0 ? args[0] : "";
string? Value(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
bool Flag(string name) => args.Contains(name);
int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

MpiProcessGroup? mpi = null;
try
{
    mpi = Flag("--mpi") ? MpiProcessGroup.Initialize() : null;
}
catch (DllNotFoundException e)
{
    Console.Error.WriteLine("mpi-host: " + e.Message);
    return 4;
}

var rank = mpi?.Rank ?? 0;
try
{
    switch (command)
    {
        case "train":
            Train(mpi, Value("--out") ?? throw new ArgumentException("--out is required"));
            break;
        case "cache":
            Cache(mpi, Value("--out") ?? throw new ArgumentException("--out is required"), Int("--batch", 16));
            break;
        case "bench":
            Bench(mpi, Int("--steps", 40), Int("--threads", 1), Int("--batch", 64));
            break;
        default:
            Console.Error.WriteLine("usage: train|cache|bench ...");
            return 2;
    }
}
catch (Exception e)
{
    Console.Error.WriteLine($"mpi-host rank {rank}: {e.GetType().Name}: {e.Message}");
    Console.Error.Flush();
    if (mpi is { Size: > 1 })
    {
        mpi.Abort(3); // the other ranks may wait in a collective call
    }

    return 3;
}

mpi?.Dispose();
return 0;

static TensorDataset Synthetic(long count)
{
    var generator = new Generator(7);
    var inputs = randn(new long[] { count, 8 }, generator: generator);
    var labels = randint(0, 3, new long[] { count }, generator: generator);
    return new TensorDataset(inputs, labels);
}

void Train(MpiProcessGroup? group, string output)
{
    torch.set_num_threads(1);
    var samples = Flag("--disagree") && group?.Rank == 1 ? 80 : 96;
    using var data = Synthetic(samples);
    Reproducibility.Seed(11);
    var teacherNet = nn.Sequential(("hidden", nn.Linear(8, 32)), ("act", nn.Tanh()), ("out", nn.Linear(32, 3)));
    var studentNet = nn.Sequential(("hidden", nn.Linear(8, 16)), ("act", nn.Tanh()), ("out", nn.Linear(16, 3)));
    if (group is not null && group.Rank != 0)
    {
        // Other ranks start from other weights: the engine must take rank 0's.
        using var noGrad = no_grad();
        foreach (var p in studentNet.parameters())
        {
            p.add_(1.0);
        }
    }

    using var teacher = Teacher.FromModule(teacherNet);
    using var student = Student.FromModule(studentNet);
    var projection = new ProjectionLoss();
    var loss = 0.5 * new KDLoss(2.0) + 0.3 * new CrossEntropyLoss() + 0.2 * projection;
    var options = new DistillerOptions
    {
        Epochs = Int("--epochs", 3),
        Seed = 5,
        Threads = 1,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 1e-4 },
        GradientBucketBytes = 1024, // several buckets even for these small models
    };
    if (Value("--checkpoint") is { } directory)
    {
        options.Checkpoint = new CheckpointOptions { Directory = directory, Overwrite = true };
    }

    using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, loss, options) { ProcessGroup = group };
    if (Int("--kill-at-step", -1) is var killAt and >= 0)
    {
        distiller.Callbacks.Add(new KillAtStep(killAt));
    }

    var loader = new DataLoader(data, batchSize: 16, shuffle: true, seed: 3);
    var result = Flag("--resume")
        ? distiller.Resume(options.Checkpoint.FilePath ?? throw new ArgumentException("--resume needs --checkpoint"), loader)
        : distiller.Fit(loader);
    if (group is null || group.Rank == 0)
    {
        foreach (var record in result.History)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {record.Epoch + 1}: loss {record.Loss:R} steps {record.Steps} accuracy {record.TrainMetrics["student"]["accuracy"]:R}"));
        }

        using var stream = File.Create(output);
        using var writer = new BinaryWriter(stream);
        foreach (var (name, tensor) in studentNet.state_dict().Select(kv => ("student." + kv.Key, kv.Value))
                     .Concat(projection.Projection.state_dict().Select(kv => ("projection." + kv.Key, kv.Value)))
                     .OrderBy(kv => kv.Item1, StringComparer.Ordinal))
        {
            writer.Write(name);
            var values = tensor.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
            writer.Write(values.Length);
            foreach (var v in values)
            {
                writer.Write(v);
            }
        }

        Console.WriteLine($"wrote {output}");
    }
}

void Cache(MpiProcessGroup? group, string output, int batch)
{
    torch.set_num_threads(1);
    using var data = Synthetic(100); // not a multiple of the batch: the last shard ends with a short batch
    Reproducibility.Seed(11);
    var teacherNet = nn.Sequential(("hidden", nn.Linear(8, 32)), ("act", nn.Tanh()), ("out", nn.Linear(32, 3)));
    using var teacher = Teacher.FromModule(teacherNet);
    if (group is null)
    {
        using var cache = new CachedTeacher(teacher, data.Count, new TeacherCacheOptions { Storage = TeacherCacheStorage.Disk, FilePath = output });
        TeacherCacheBuilder.Fill(cache, data, 0, data.Count, batch);
        Console.WriteLine($"single: cached {cache.CachedSamples} samples in {output}");
        return;
    }

    var (start, end) = TeacherCacheBuilder.ShardRange(data.Count, batch, group.Rank, group.Size);
    Console.WriteLine($"rank {group.Rank}: samples {start}..{end - 1}");
    TeacherCacheBuilder.BuildSharded(group, teacher, data, batch, output);
    if (group.Rank == 0)
    {
        Console.WriteLine($"merged: {output}");
    }
}

void Bench(MpiProcessGroup? group, int steps, int threads, int batch)
{
    torch.set_num_threads(threads);
    var size = group?.Size ?? 1;
    var generator = new Generator(1);
    var count = (long)batch * (steps + 5);
    using var data = new TensorDataset(randn(new long[] { count, 1, 28, 28 }, generator: generator), randint(0, 10, new long[] { count }, generator: generator));
    Reproducibility.Seed(1);
    using var teacherNet = SmallCnn.Teacher();
    using var studentNet = SmallCnn.Student();
    using var teacher = Teacher.FromModule(teacherNet);
    using var student = Student.FromModule(studentNet);
    var counting = group is null ? null : new CountingGroup(group);
    var options = new DistillerOptions { Epochs = 1, Seed = 1, Threads = threads };
    using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, 0.9 * new KDLoss(4.0) + 0.1 * new CrossEntropyLoss(), options) { ProcessGroup = counting };
    var timer = new StepTimer(5, () => counting?.Reset());
    distiller.Callbacks.Add(timer);
    distiller.Fit(new DataLoader(data, batch, shuffle: true, seed: 1));
    if (group is null || group.Rank == 0)
    {
        var measured = timer.Steps;
        var seconds = timer.Elapsed.TotalSeconds;
        var share = counting is null ? 0 : counting.AllReduceSeconds / seconds;
        var perStep = counting is null ? 0 : counting.AllReduceBytes / (double)measured;
        var calls = counting is null ? 0 : counting.AllReduceCalls / (double)measured;
        var parameters = studentNet.parameters().Sum(p => p.numel());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench ranks={size} threads={threads} global-batch={batch} steps={measured}: {measured * batch / seconds:F1} samples/s, {seconds / measured * 1000:F2} ms/step, " +
            $"allreduce share {share:P1}, allreduce per step {perStep:F0} bytes in {calls:F1} call(s); student parameters {parameters} ({parameters * 4} bytes)"));
        foreach (var (name, model) in new (string, nn.Module)[] { ("teacher", SmallCnn.Teacher()), ("tiny", SmallCnn.Student()), ("small", new SmallCnn(new[] { 8, 16 })), ("medium", new SmallCnn(new[] { 16, 32 }, hidden: 64)) })
        {
            var n = model.parameters().Sum(p => p.numel());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model {name}: {n} parameters, allreduce volume per step when trained: {n * 4} bytes"));
            model.Dispose();
        }
    }
}

/// <summary>A loss with its own trainable module: MSE between a linear projection of the student's logits and the teacher's.</summary>
internal sealed class ProjectionLoss : DistillationLoss
{
    public ProjectionLoss()
        : base("projection") => Projection = nn.Linear(3, 3);

    public TorchSharp.Modules.Linear Projection { get; }

    public override IReadOnlyList<nn.Module> TrainableModules => new nn.Module[] { Projection };

    public override LossResult Compute(DistillationContext context)
    {
        var student = context.Output("student").Logits!;
        var teacher = context.Output("teacher").Logits!.detach();
        return new LossResult(Name, nn.functional.mse_loss(Projection.call(student), teacher));
    }
}

/// <summary>Kills this process (SIGKILL, no clean-up) when a global step ends: a crash of every rank at the same step.</summary>
internal sealed class KillAtStep(int step) : IDistillationCallback
{
    public void OnStageStart(DistillationStage stage)
    {
    }

    public void OnStepEnd(StepInfo info)
    {
        if (info.Step == step)
        {
            Console.Out.Flush();
            Process.GetCurrentProcess().Kill();
        }
    }

    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
    }

    public void OnFitEnd(FitResult result)
    {
    }
}

/// <summary>Times the steps after the first <c>warmup</c> ones.</summary>
internal sealed class StepTimer(int warmup, Action onWarm) : IDistillationCallback
{
    private readonly Stopwatch _clock = new();
    private int _seen;

    public int Steps => Math.Max(0, _seen - warmup);

    public TimeSpan Elapsed => _clock.Elapsed;

    public void OnStageStart(DistillationStage stage)
    {
    }

    public void OnStepEnd(StepInfo info)
    {
        _seen++;
        if (_seen == warmup)
        {
            onWarm();
            _clock.Restart();
        }
    }

    public void OnEpochEnd(EpochRecord record, TrainingControl control) => _clock.Stop();

    public void OnFitEnd(FitResult result)
    {
    }
}

/// <summary>An <see cref="IProcessGroup"/> that counts and times the gradient allreduce calls of the group it wraps.</summary>
internal sealed class CountingGroup(IProcessGroup inner) : IProcessGroup
{
    public int Rank => inner.Rank;

    public int Size => inner.Size;

    public long AllReduceCalls { get; private set; }

    public long AllReduceBytes { get; private set; }

    public double AllReduceSeconds { get; private set; }

    public void AllReduceSum(Span<float> values)
    {
        var clock = Stopwatch.StartNew();
        inner.AllReduceSum(values);
        AllReduceSeconds += clock.Elapsed.TotalSeconds;
        AllReduceCalls++;
        AllReduceBytes += values.Length * sizeof(float);
    }

    public void Reset()
    {
        AllReduceCalls = 0;
        AllReduceBytes = 0;
        AllReduceSeconds = 0;
    }

    public void AllReduceSum(Span<double> values) => inner.AllReduceSum(values);

    public void Broadcast(Span<byte> buffer, int root) => inner.Broadcast(buffer, root);

    public byte[][] AllGather(ReadOnlySpan<byte> local) => inner.AllGather(local);

    public void Barrier() => inner.Barrier();
}
