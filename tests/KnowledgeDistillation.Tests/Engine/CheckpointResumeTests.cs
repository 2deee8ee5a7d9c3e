using System.Diagnostics;
using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

[Collection(SerialCollection.Name)]
public sealed class CheckpointResumeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(OptimizerKind.Sgd, 13)] // mid-epoch (4 batches per epoch)
    [InlineData(OptimizerKind.Adam, 8)] // exactly at an epoch boundary
    [InlineData(OptimizerKind.Sgd, 21)] // inside the second stage (steps 12-23)
    public void Resumed_run_reproduces_the_uninterrupted_losses_bit_for_bit(OptimizerKind optimizer, int cancelAtStep)
    {
        var uninterrupted = Train(optimizer, out _);

        using var cts = new CancellationTokenSource();
        var act = () => Train(optimizer, out _, cts, cancelAtStep);
        act.Should().Throw<OperationCanceledException>();
        var checkpoint = Path.Combine(_directory, "checkpoint.kdck");
        File.Exists(checkpoint).Should().BeTrue();

        var resumed = Train(optimizer, out _, resumeFrom: checkpoint);

        Losses(resumed).Should().Equal(Losses(uninterrupted));
        resumed.History.Select(h => h.TrainMetrics["student"]["accuracy"]).Should().Equal(uninterrupted.History.Select(h => h.TrainMetrics["student"]["accuracy"]));
        resumed.History.Select(h => (h.Stage, h.Epoch, h.Steps)).Should().Equal(uninterrupted.History.Select(h => (h.Stage, h.Epoch, h.Steps)));
        Directory.GetFiles(_directory).Should().Equal(new[] { checkpoint }, "temporary files are renamed or removed");
    }

    [Fact]
    public void Resuming_a_finished_run_returns_its_history_without_training()
    {
        var finished = Train(OptimizerKind.Sgd, out _);
        var resumed = Train(OptimizerKind.Sgd, out _, resumeFrom: Path.Combine(_directory, "checkpoint.kdck"));
        Losses(resumed).Should().Equal(Losses(finished));
    }

    [Fact]
    public void Checkpoint_of_another_setup_or_a_corrupted_file_is_refused()
    {
        Train(OptimizerKind.Sgd, out _);
        var checkpoint = Path.Combine(_directory, "checkpoint.kdck");

        using var other = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var student = Student.FromModule(other, "someone-else");
        using var data = SyntheticData.Blobs(64, seed: 1);
        var wrongSetup = () => new Distiller(new[] { student }, new CrossEntropyLoss("someone-else"), new DistillerOptions()).Resume(checkpoint, new DataLoader(data, 16));
        wrongSetup.Should().Throw<InvalidDataException>().WithMessage("*different setup*someone-else*");

        var bytes = File.ReadAllBytes(checkpoint);
        var truncated = Path.Combine(_directory, "truncated.kdck");
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var corrupted = Path.Combine(_directory, "corrupted.kdck");
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(corrupted, bytes);
        foreach (var file in new[] { truncated, corrupted })
        {
            var act = () => Train(OptimizerKind.Sgd, out _, resumeFrom: file);
            act.Should().Throw<InvalidDataException>().WithMessage("*not a usable checkpoint*checksum*");
        }

        var missing = () => Train(OptimizerKind.Sgd, out _, resumeFrom: Path.Combine(_directory, "nope.kdck"));
        missing.Should().Throw<FileNotFoundException>();
    }

    [Fact]
    public void A_process_killed_while_saving_leaves_the_previous_checkpoint_loadable()
    {
        var host = HostPath();
        File.Exists(host).Should().BeTrue($"the checkpoint host is built with the tests ({host})");
        var checkpoint = Path.Combine(_directory, "checkpoint.kdck");
        var random = new Random(42);
        var epochsBefore = 0;
        for (var round = 0; round < 3; round++)
        {
            using var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{host}\" \"{_directory}\"")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            })!;
            var saves = 0;
            var deadline = Stopwatch.StartNew();
            while (saves < 2 && deadline.Elapsed < TimeSpan.FromSeconds(120))
            {
                var line = process.StandardOutput.ReadLine() ?? throw new InvalidOperationException($"The host exited early: {process.StandardError.ReadToEnd()}");
                if (line.StartsWith("saved ", StringComparison.Ordinal))
                {
                    saves++;
                }
            }

            saves.Should().Be(2, "the host writes checkpoints continuously");
            Thread.Sleep(random.Next(0, 150)); // land somewhere inside a later save
            process.Kill(entireProcessTree: true); // SIGKILL: no finally blocks, no flushing
            process.WaitForExit();

            // The checksum and the header verify: whatever the kill interrupted, the file is a complete checkpoint.
            var state = CheckpointFile.Read(checkpoint);
            state.Epoch.Should().BeGreaterThanOrEqualTo(1, "at least one save completed before the kill");
            state.History.Count.Should().BeGreaterThan(epochsBefore, "each round resumes the killed run and trains further epochs on top of it");
            epochsBefore = state.History.Count;
        }
    }

    private FitResult Train(OptimizerKind optimizer, out Mlp net, CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null)
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 3);
        random.manual_seed(resumeFrom is null ? 4 : 99); // a resumed run must not depend on its fresh initialisation
        net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var teacherNet = new DropoutMlp();
        using var teacher = Teacher.FromModule(teacherNet, trainable: true);
        using var student = Student.FromModule(net);
        var options = new DistillerOptions
        {
            Seed = 5,
            Optimizer = new OptimizerOptions { Kind = optimizer, LearningRate = optimizer == OptimizerKind.Adam ? 0.01 : 0.1 },
            LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine },
            Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true },
        };
        var stages = new[]
        {
            new DistillationStage("warm-up", new CrossEntropyLoss() + new CrossEntropyLoss("teacher", name: "ce_teacher")) { Epochs = 3 },
            new DistillationStage("distill", Loss.Hinton(4, 0.9)) { Epochs = 3, Trainable = new[] { "student" } },
        };
        var distiller = new Distiller(new IDistillationModel[] { teacher, student }, stages, options);
        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 16, seed: 6);
        var result = resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
        net.Dispose();
        return result;
    }

    private static double[] Losses(FitResult result) =>
        result.History.SelectMany(h => h.LossParts.OrderBy(p => p.Key).Select(p => p.Value).Prepend(h.Loss)).ToArray();

    private static string HostPath()
    {
        var testDirectory = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var framework = Path.GetFileName(testDirectory);
        var configuration = Path.GetFileName(Path.GetDirectoryName(testDirectory)!);
        var tests = Path.GetFullPath(Path.Combine(testDirectory, "..", "..", "..", ".."));
        return Path.Combine(tests, "KnowledgeDistillation.CheckpointHost", "bin", configuration, framework, "KnowledgeDistillation.CheckpointHost.dll");
    }

    /// <summary>A trainable teacher with dropout, so the random generator state matters for exact resumption.</summary>
    private sealed class DropoutMlp : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Sequential layers = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3));

        public DropoutMlp()
            : base(nameof(DropoutMlp)) => RegisterComponents();

        public override Tensor forward(Tensor input) => layers.call(input);
    }
}
