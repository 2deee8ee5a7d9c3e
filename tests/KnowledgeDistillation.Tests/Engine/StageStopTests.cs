using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary><see cref="TrainingControl.StopStage"/>: a callback ends one stage early and the run goes on with the next.</summary>
[Collection(SerialCollection.Name)]
public sealed class StageStopTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-stage-stop-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string CheckpointPath => Path.Combine(_directory, "checkpoint.kdck");

    [Fact]
    public void A_stage_stop_ends_only_that_stage()
    {
        var result = Train(stopAt: ("warm-up", 0));

        result.History.Select(h => (h.Stage, h.Epoch, h.EndedStage)).Should().Equal(
            ("warm-up", 0, true), ("fine-tune", 0, false), ("fine-tune", 1, false), ("fine-tune", 2, false));
        result.History.Select(h => h.StageEpochs).Should().Equal(3, 3, 3, 3);
        result.StoppedEarly.Should().BeFalse("the run itself was not stopped");
    }

    [Fact]
    public void A_run_with_an_early_ended_stage_resumes_bit_for_bit_from_a_later_stop()
    {
        var straight = Train(stopAt: ("warm-up", 1), directory: Path.Combine(_directory, "straight"));

        using var cancel = new CancellationTokenSource();
        var act = () => Train(stopAt: ("warm-up", 1), cancel: cancel, cancelAtStep: 14); // 4 batches per epoch: fine-tune epoch 1, mid-epoch
        act.Should().Throw<OperationCanceledException>();
        var resumed = Train(stopAt: ("warm-up", 1), resumeFrom: CheckpointPath);

        resumed.History.Select(h => (h.Stage, h.Epoch, h.EndedStage)).Should().Equal(straight.History.Select(h => (h.Stage, h.Epoch, h.EndedStage)));
        resumed.History.Select(h => h.Loss).Should().Equal(straight.History.Select(h => h.Loss), "the checkpoint accepted the shorter stage and resumed exactly");
    }

    [Fact]
    public void A_finished_run_whose_last_stage_ended_early_is_not_continued()
    {
        Train(stopAt: ("fine-tune", 0));

        var again = Train(stopAt: null, resumeFrom: CheckpointPath);

        again.AlreadyComplete.Should().BeTrue("the last stage was ended on purpose; resuming does not train its remaining epochs");
        again.EpochsTrained.Should().Be(0);
    }

    [Fact]
    public void A_run_stop_wins_over_a_stage_stop()
    {
        var result = Train(stopAt: ("warm-up", 0), alsoStopRun: true);

        result.History.Should().ContainSingle().Which.EndedStage.Should().BeFalse();
        result.StoppedEarly.Should().BeTrue();
    }

    private FitResult Train((string Stage, int Epoch)? stopAt, string? directory = null, string? resumeFrom = null, CancellationTokenSource? cancel = null, int cancelAtStep = -1, bool alsoStopRun = false)
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 3);
        random.manual_seed(resumeFrom is null ? 4 : 99);
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var student = Student.FromModule(net);
        var stages = new[]
        {
            new DistillationStage("warm-up", new CrossEntropyLoss()) { Epochs = 3 },
            new DistillationStage("fine-tune", new CrossEntropyLoss(labelSmoothing: 0.1)) { Epochs = 3 },
        };
        var options = new DistillerOptions
        {
            Seed = 5,
            Optimizer = new OptimizerOptions { LearningRate = 0.1 },
            Checkpoint = new CheckpointOptions { Directory = directory ?? _directory, Overwrite = true },
        };
        var distiller = new Distiller(new[] { student }, stages, options);
        if (stopAt is { } at)
        {
            distiller.Callbacks.Add(new StopStageAt(at.Stage, at.Epoch, alsoStopRun));
        }

        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 16, seed: 6);
        return resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
    }

    private sealed class StopStageAt(string stage, int epoch, bool alsoStopRun) : IDistillationCallback
    {
        public void OnEpochEnd(EpochRecord record, TrainingControl control)
        {
            if (record.Stage == stage && record.Epoch == epoch)
            {
                control.StopStage("test");
                if (alsoStopRun)
                {
                    control.Stop("test run stop");
                }
            }
        }
    }
}
