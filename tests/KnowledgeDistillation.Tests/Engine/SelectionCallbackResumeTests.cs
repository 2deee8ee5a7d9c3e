using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary>
/// <see cref="EarlyStopping"/> and <see cref="BestModelTracker"/> are checkpointed with the run: a run stopped part-way
/// through a stage and resumed stops at the same epoch and restores the same weights as the uninterrupted run.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SelectionCallbackResumeTests : IDisposable
{
    private const int BatchesPerEpoch = 4; // 64 samples, batches of 16
    private const int Patience = 3;

    private readonly string _directory = Directory.CreateTempSubdirectory("kd-selection-resume-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string CheckpointPath => Path.Combine(_directory, "checkpoint.kdck");

    [Fact]
    public void A_run_resumed_after_stale_epochs_stops_and_selects_as_the_uninterrupted_one()
    {
        var (uninterrupted, uninterruptedWeights, uninterruptedBest) = Train();
        uninterrupted.StoppedEarly.Should().BeTrue("the validation accuracy stops improving well before the last epoch");
        var accuracies = uninterrupted.History.Select(h => h.EvalMetrics["student"]["accuracy"]).ToArray();
        var bestEpoch = Array.IndexOf(accuracies, accuracies.Max());
        uninterrupted.History.Should().HaveCount(bestEpoch + 1 + Patience);

        // Stop in the middle of the second epoch after the best: the patience count is 1 and the best weights are two
        // epochs old. A resumed run that forgot either would train longer or keep other weights.
        using (var cts = new CancellationTokenSource())
        {
            var act = () => Train(cts, cancelAtStep: ((bestEpoch + 2) * BatchesPerEpoch) + 2);
            act.Should().Throw<OperationCanceledException>();
        }

        var (resumed, resumedWeights, resumedBest) = Train(resumeFrom: CheckpointPath);

        resumed.History.Select(h => (h.Stage, h.Epoch)).Should().Equal(uninterrupted.History.Select(h => (h.Stage, h.Epoch)));
        resumed.StoppedEarly.Should().BeTrue();
        resumedBest.Should().Be(uninterruptedBest);
        resumedBest.Should().Be(("train", bestEpoch));
        resumedWeights.Should().HaveSameCount(uninterruptedWeights);
        foreach (var (name, values) in uninterruptedWeights)
        {
            resumedWeights[name].Should().Equal(values, $"'{name}' is the best epoch's weight in both runs");
        }
    }

    [Fact]
    public void A_stage_resumed_part_way_calls_OnStageResumed_and_a_fresh_stage_calls_OnStageStart()
    {
        using (var cts = new CancellationTokenSource())
        {
            var act = () => Train(cts, cancelAtStep: BatchesPerEpoch + 1);
            act.Should().Throw<OperationCanceledException>();
        }

        var recorder = new StageCallRecorder();
        Train(resumeFrom: CheckpointPath, extra: recorder);

        recorder.Calls.Should().Equal("resumed:train");
    }

    [Fact]
    public void Malformed_states_are_refused_with_the_state_name()
    {
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var student = Student.FromModule(net);
        var stopping = new EarlyStopping(patience: 2);
        using var tracker = new BestModelTracker(student);
        stopping.Name.Should().Be("early-stopping/student.accuracy");
        tracker.Name.Should().Be("best-model/student.accuracy");

        var noCount = () => stopping.Import(new Dictionary<string, Tensor> { ["best"] = tensor(new[] { 0.5 }) });
        noCount.Should().Throw<InvalidDataException>().WithMessage("*early-stopping/student.accuracy*stale*");

        var wrongShape = () => tracker.Import(new Dictionary<string, Tensor>
        {
            ["best"] = tensor(new[] { 0.9 }),
            ["best-stage"] = tensor(System.Text.Encoding.UTF8.GetBytes("train")),
            ["best-epoch"] = tensor(new long[] { 2 }),
            ["weights/layers.0.weight"] = zeros(3, 3),
        });
        wrongShape.Should().Throw<InvalidDataException>().WithMessage("*best-model/student.accuracy*layers.0.weight*[3, 3]*");

        var halfBest = () => tracker.Import(new Dictionary<string, Tensor> { ["best"] = tensor(new[] { 0.9 }) });
        halfBest.Should().Throw<InvalidDataException>().WithMessage("*incomplete best value*");
    }

    private (FitResult Result, Dictionary<string, float[]> Weights, (string, int)? Best) Train(
        CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null, IDistillationCallback? extra = null)
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 3);
        using var validation = SyntheticData.Blobs(48, classes: 3, seed: 11);
        random.manual_seed(resumeFrom is null ? 4 : 99); // a resumed run must not depend on its fresh initialisation
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var student = Student.FromModule(net);
        var options = new DistillerOptions
        {
            Epochs = 30,
            Seed = 5,
            Optimizer = new OptimizerOptions { LearningRate = 0.1 },
            Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true },
        };
        var distiller = new Distiller(new[] { student }, new[] { new DistillationStage("train", new CrossEntropyLoss()) }, options);
        using var tracker = new BestModelTracker(student);
        distiller.Callbacks.Add(new EarlyStopping(patience: Patience));
        distiller.Callbacks.Add(tracker);
        if (extra is not null)
        {
            distiller.Callbacks.Add(extra);
        }

        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 16, seed: 6);
        var evaluation = new DataLoader(validation, 16, shuffle: false);
        var result = resumeFrom is null
            ? distiller.Fit(loader, evaluation, cancel?.Token ?? default)
            : distiller.Resume(resumeFrom, loader, evaluation);
        var weights = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().data<float>().ToArray());
        return (result, weights, tracker.BestAt);
    }

    /// <summary>Records which stage hook the engine called.</summary>
    private sealed class StageCallRecorder : IDistillationCallback
    {
        public List<string> Calls { get; } = new();

        public void OnStageStart(DistillationStage stage) => Calls.Add("start:" + stage.Name);

        public void OnStageResumed(DistillationStage stage) => Calls.Add("resumed:" + stage.Name);
    }
}
