using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Microsoft.Extensions.Logging;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary>
/// Issue 12, problems 1 and 2: Fit never destroys a saved run unless told to, and Resume continues a finished run to more
/// epochs (exactly the extra epochs, recorded in the history) or says that there was nothing to do.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class CheckpointSafetyTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-ckpt-safety-").FullName;

    private float[] _lastWeights = Array.Empty<float>();

    private string CheckpointPath => Path.Combine(_directory, "checkpoint.kdck");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Fit_refuses_to_overwrite_a_checkpoint_it_did_not_write()
    {
        Train(epochs: 2);
        var saved = File.ReadAllBytes(CheckpointPath);

        var again = () => Train(epochs: 2);
        again.Should().Throw<InvalidOperationException>()
            .WithMessage("*checkpoint.kdck' already holds a checkpoint (stages [distill], 2 finished epoch(s), finished)*Resume(*Checkpoint.Overwrite = true*Checkpoint:Overwrite*");
        File.ReadAllBytes(CheckpointPath).Should().Equal(saved, "the refused call wrote nothing");

        var elsewhere = Path.Combine(_directory, "copy.kdck");
        File.Copy(CheckpointPath, elsewhere);
        var resumeOther = () => Train(epochs: 2, resumeFrom: elsewhere);
        resumeOther.Should().Throw<InvalidOperationException>().WithMessage("*Resume from*copy.kdck' would overwrite it*");

        var replaced = Train(epochs: 3, overwrite: true);
        replaced.History.Should().HaveCount(3);
        CheckpointFile.Read(CheckpointPath).History.Should().HaveCount(3, "with Overwrite the new run replaced the old checkpoint");
    }

    [Fact]
    public void Fit_writes_its_own_checkpoint_every_epoch_and_an_interrupted_run_resumes()
    {
        var uninterrupted = Train(epochs: 3, directory: Path.Combine(_directory, "reference"));

        using var cancel = new CancellationTokenSource();
        var interrupted = () => Train(epochs: 3, cancel: cancel, cancelAtStep: 6); // mid-epoch 1 (4 batches per epoch)
        interrupted.Should().Throw<OperationCanceledException>();
        var resumed = Train(epochs: 3, resumeFrom: CheckpointPath);

        Losses(resumed).Should().Equal(Losses(uninterrupted));
        resumed.EpochsTrained.Should().Be(2, "epoch 0 came from the checkpoint; epoch 1 was interrupted and re-counted");
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Adam)] // its moments must carry over from the finished run
    public void Resume_continues_a_finished_run_to_more_epochs_exactly_like_a_straight_run(OptimizerKind optimizer)
    {
        var straight = Train(epochs: 5, optimizer: optimizer, directory: Path.Combine(_directory, "straight"));
        var straightWeights = _lastWeights;

        var first = Train(epochs: 3, optimizer: optimizer);
        first.History.Should().HaveCount(3);
        var continued = Train(epochs: 5, optimizer: optimizer, resumeFrom: CheckpointPath);
        var continuedWeights = _lastWeights;

        continued.History.Should().HaveCount(5);
        continued.EpochsTrained.Should().Be(2, "exactly the extra epochs are trained");
        continued.AlreadyComplete.Should().BeFalse();
        continued.History.Select(h => h.ContinuedFromEpochs).Should().Equal(null, null, null, 3, null);
        Losses(continued).Should().Equal(Losses(straight), "a constant schedule does not depend on the epoch count");
        continued.History.Select(h => h.TrainMetrics["student"]["accuracy"]).Should().Equal(straight.History.Select(h => h.TrainMetrics["student"]["accuracy"]));
        continuedWeights.Should().Equal(straightWeights);
        CheckpointFile.Read(CheckpointPath).History.Should().HaveCount(5);

        // And once more: the continued run is itself a finished run that can be continued.
        Train(epochs: 6, optimizer: optimizer, resumeFrom: CheckpointPath).EpochsTrained.Should().Be(1);
    }

    [Fact]
    public void A_continued_cosine_schedule_keeps_its_first_epochs_and_anneals_the_new_ones_over_the_new_count()
    {
        var first = Train(epochs: 3, schedule: LearningRateScheduleKind.Cosine);
        var continued = Train(epochs: 5, schedule: LearningRateScheduleKind.Cosine, resumeFrom: CheckpointPath);
        var cosine = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine };

        continued.History.Take(3).Select(h => h.LearningRate).Should().Equal(first.History.Select(h => h.LearningRate));
        continued.History.Take(3).Select(h => h.LearningRate).Should().Equal(Enumerable.Range(0, 3).Select(e => cosine.RateAt(0.1, e, 3)));
        continued.History.Skip(3).Select(h => h.LearningRate).Should().Equal(cosine.RateAt(0.1, 3, 5), cosine.RateAt(0.1, 4, 5));

        // A straight 5-epoch cosine run anneals every epoch over 5: the continuation differs from it (documented).
        var straight = Train(epochs: 5, schedule: LearningRateScheduleKind.Cosine, directory: Path.Combine(_directory, "straight"));
        straight.History.Select(h => h.LearningRate).Should().NotEqual(continued.History.Select(h => h.LearningRate));
    }

    [Fact]
    public void Resuming_a_finished_run_with_the_same_epochs_warns_and_says_so_in_the_result()
    {
        var finished = Train(epochs: 3);
        var logs = new ListLogger();
        var resumed = Train(epochs: 3, resumeFrom: CheckpointPath, logger: logs);

        resumed.AlreadyComplete.Should().BeTrue();
        resumed.EpochsTrained.Should().Be(0);
        Losses(resumed).Should().Equal(Losses(finished));
        logs.Entries.Should().Contain(e => e.Level == LogLevel.Warning && e.Message.Contains("already finished all 3 epoch(s)", StringComparison.Ordinal)
            && e.Message.Contains("raise that stage's epochs", StringComparison.Ordinal));
        finished.AlreadyComplete.Should().BeFalse();
        finished.EpochsTrained.Should().Be(3);
    }

    [Fact]
    public void Resuming_a_finished_run_with_fewer_epochs_is_refused()
    {
        Train(epochs: 3);
        var shorter = () => Train(epochs: 2, resumeFrom: CheckpointPath);
        shorter.Should().Throw<InvalidDataException>().WithMessage("*last stage 'distill' ran 3 epoch(s), but this run sets 2*never fewer*");
    }

    [Fact]
    public void Only_the_last_stage_of_a_finished_multi_stage_run_is_extended()
    {
        var twoStages = (int lastEpochs, string? resumeFrom, string directory) =>
        {
            using var data = SyntheticData.Blobs(64, classes: 3, seed: 3);
            random.manual_seed(resumeFrom is null ? 4 : 99);
            using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
            using var student = Student.FromModule(net);
            var stages = new[]
            {
                new DistillationStage("warm-up", new CrossEntropyLoss()) { Epochs = 2 },
                new DistillationStage("fine-tune", new CrossEntropyLoss(labelSmoothing: 0.1)) { Epochs = lastEpochs },
            };
            var options = new DistillerOptions
            {
                Seed = 5,
                Optimizer = new OptimizerOptions { LearningRate = 0.1 },
                Checkpoint = new CheckpointOptions { Directory = directory },
            };
            var distiller = new Distiller(new[] { student }, stages, options);
            var loader = new DataLoader(data, 16, seed: 6);
            return resumeFrom is null ? distiller.Fit(loader) : distiller.Resume(resumeFrom, loader);
        };

        var straight = twoStages(3, null, Path.Combine(_directory, "straight"));
        twoStages(1, null, _directory);
        var continued = twoStages(3, CheckpointPath, _directory);

        continued.History.Select(h => (h.Stage, h.Epoch)).Should().Equal(("warm-up", 0), ("warm-up", 1), ("fine-tune", 0), ("fine-tune", 1), ("fine-tune", 2));
        continued.History[3].ContinuedFromEpochs.Should().Be(1);
        Losses(continued).Should().Equal(Losses(straight));
    }

    /// <summary>A student with a trainable dropout teacher (the random generator matters), 4 batches per epoch, checkpoints every epoch.</summary>
    private FitResult Train(
        int epochs, OptimizerKind optimizer = OptimizerKind.Sgd, LearningRateScheduleKind schedule = LearningRateScheduleKind.Constant, string? directory = null,
        string? resumeFrom = null, bool overwrite = false, CancellationTokenSource? cancel = null, int cancelAtStep = -1, ILogger? logger = null)
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 3);
        random.manual_seed(resumeFrom is null ? 4 : 99); // a resumed run must not depend on its fresh initialisation
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var teacherNet = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3));
        using var teacher = Teacher.FromModule(teacherNet, trainable: true);
        using var student = Student.FromModule(net);
        var options = new DistillerOptions
        {
            Epochs = epochs,
            Seed = 5,
            Optimizer = new OptimizerOptions { Kind = optimizer, LearningRate = optimizer == OptimizerKind.Adam ? 0.01 : 0.1 },
            LearningRateSchedule = new LearningRateScheduleOptions { Kind = schedule },
            Checkpoint = new CheckpointOptions { Directory = directory ?? _directory, Overwrite = overwrite },
        };
        var loss = new CrossEntropyLoss() + new CrossEntropyLoss("teacher", name: "ce-teacher") + 0.5 * new KDLoss(4);
        var distiller = new Distiller(new IDistillationModel[] { teacher, student }, loss, options, logger);
        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 16, seed: 6);
        var result = resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
        _lastWeights = net.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();
        return result;
    }

    private static double[] Losses(FitResult result) =>
        result.History.SelectMany(h => h.LossParts.OrderBy(p => p.Key).Select(p => p.Value).Prepend(h.Loss)).ToArray();

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}
