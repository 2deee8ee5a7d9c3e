using System.Security.Cryptography;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// Checkpoints through <see cref="Distiller.Resume"/>. A run with two stages (Adam, then SGD with momentum) and a stateful
/// loss (DR-KD's previous-epoch self-teacher), so a checkpoint holds two module blocks, a loss-state block, an optimiser
/// block of either kind and the random generator state. The input is the checkpoint without its SHA-256 trailer: the
/// target appends a matching trailer, so mutations reach the field checks instead of stopping at the checksum.
/// </summary>
internal sealed class CheckpointTarget : FuzzTarget
{
    private const int Samples = 24;
    private const int TrailerLength = 32 + 8;
    private static readonly byte[] EndMarker = "KDCKEND\0"u8.ToArray();

    /// <inheritdoc />
    public override string Name => "checkpoint";

    /// <inheritdoc />
    public override string Api => "Distiller.Resume (input: checkpoint without trailer; the target seals it)";

    /// <summary>
    /// <see cref="InvalidDataException"/> from the reader; and <see cref="NonFiniteLossException"/>, which training throws
    /// after an accepted file whose (re-sealed) weights or state make the loss NaN: only a forged checksum gets such a
    /// file past the SHA-256 trailer, and the module blocks may legitimately hold any float (e.g. -inf in a mask buffer).
    /// </summary>
    public override bool IsDocumented(Exception exception) => exception is InvalidDataException or NonFiniteLossException;

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch)
    {
        // Steps 1-6 are stage 'warm-up' (Adam), 7-12 stage 'distill' (SGD); 0 runs to the end (a finished run's checkpoint).
        var seeds = new List<(string, byte[])>();
        foreach (var cancelAt in new[] { 2, 4, 8, 11, 0 })
        {
            var directory = Path.Combine(scratch, $"step{cancelAt}");
            using var cancel = new CancellationTokenSource();
            try
            {
                Train(directory, cancel, cancelAt, resumeFrom: null);
            }
            catch (OperationCanceledException)
            {
            }

            var bytes = File.ReadAllBytes(Path.Combine(directory, "checkpoint.kdck"));
            seeds.Add(($"checkpoint-step{cancelAt}.bin", bytes[..^TrailerLength]));
        }

        return seeds;
    }

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "input.kdck");
        using (var stream = File.Create(file))
        {
            stream.Write(input);
            stream.Write(SHA256.HashData(input));
            stream.Write(EndMarker);
        }

        Train(Path.Combine(scratch, "resumed"), cancel: null, cancelAt: 0, resumeFrom: file);
    }

    private static void Train(string directory, CancellationTokenSource? cancel, int cancelAt, string? resumeFrom)
    {
        random.manual_seed(4);
        using var data = Data();
        using var teacherNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var studentNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var teacher = Teacher.FromModule(teacherNet, trainable: true);
        using var student = Student.FromModule(studentNet);
        using var selfTeacher = new PreviousEpochSelfTeacher(Samples);
        var options = new DistillerOptions
        {
            Seed = 5,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, Momentum = 0.9, LearningRate = 0.05 },
            Checkpoint = new CheckpointOptions { Directory = directory, Overwrite = true }, // every input resumes into one reused scratch folder
        };
        var stages = new[]
        {
            new DistillationStage("warm-up", new CrossEntropyLoss() + new CrossEntropyLoss("teacher", name: "ce_teacher"))
            {
                Epochs = 2,
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 0.01 },
            },
            new DistillationStage("distill", Loss.Hinton(4, 0.9) + new DrKdLoss(selfTeacher: selfTeacher)) { Epochs = 2, Trainable = new[] { "student" } },
        };
        using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, stages, options);
        if (cancel is not null && cancelAt > 0)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAt));
        }

        var loader = new DataLoader(data, 8, seed: 6);
        _ = resumeFrom is null
            ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default)
            : distiller.Resume(resumeFrom, loader);
    }

    private static TensorDataset Data()
    {
        using var generator = new Generator(3);
        var labels = randint(3, new long[] { Samples }, generator: generator).to(ScalarType.Int64);
        var inputs = randn(new long[] { Samples, 8 }, generator: generator) + labels.unsqueeze(1).to(ScalarType.Float32);
        return new TensorDataset(inputs, labels);
    }

    /// <summary>Cancels its token once the run has finished <c>steps</c> steps.</summary>
    private sealed class CancelAfterSteps(CancellationTokenSource source, int steps) : IDistillationCallback
    {
        private int _seen;

        public void OnStepEnd(StepInfo step)
        {
            if (++_seen == steps)
            {
                source.Cancel();
            }
        }
    }
}
