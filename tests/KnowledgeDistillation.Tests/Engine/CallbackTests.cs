using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Models;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

public sealed class CallbackTests
{
    [Fact]
    public void Early_stopping_stops_after_patience_evaluations_without_improvement()
    {
        var stopping = new EarlyStopping(patience: 2, minDelta: 0.01);
        var control = new TrainingControl();
        var accuracies = new[] { 0.5, 0.6, 0.605, 0.7, 0.69, 0.705 };
        var stoppedAt = -1;
        for (var epoch = 0; epoch < accuracies.Length && stoppedAt < 0; epoch++)
        {
            stopping.OnEpochEnd(Record(epoch, accuracies[epoch]), control);
            if (control.StopRequested)
            {
                stoppedAt = epoch;
            }
        }

        // 0.605 is not > 0.6 + 0.01 (stale 1), 0.7 improves, 0.69 stale 1, 0.705 stale 2 -> stop at epoch 5.
        stoppedAt.Should().Be(5);
        stopping.Best.Should().Be(0.7);
        control.Reason.Should().Contain("student.accuracy").And.Contain("2 evaluation");
    }

    [Fact]
    public void Unevaluated_epochs_do_not_count_and_a_missing_metric_is_reported()
    {
        var stopping = new EarlyStopping(patience: 1);
        var control = new TrainingControl();
        stopping.OnEpochEnd(Record(0, 0.5), control);
        stopping.OnEpochEnd(Record(1, null), control);
        control.StopRequested.Should().BeFalse();

        var wrong = new EarlyStopping(participant: "peer");
        var act = () => wrong.OnEpochEnd(Record(0, 0.5), control);
        act.Should().Throw<InvalidOperationException>().WithMessage("*'accuracy' of participant 'peer'*student.accuracy*");
        var patience = () => new EarlyStopping(patience: 0);
        patience.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Best_model_tracker_restores_the_weights_of_the_best_epoch()
    {
        using var net = new Mlp(2, Array.Empty<int>(), numClasses: 2);
        using var student = Student.FromModule(net);
        using var tracker = new BestModelTracker(student);
        var control = new TrainingControl();
        var weight = net.parameters().First();
        foreach (var (value, accuracy) in new[] { (1.0, 0.5), (2.0, 0.9), (3.0, 0.7) })
        {
            using (no_grad())
            {
                weight.fill_(value);
            }

            tracker.OnEpochEnd(Record((int)value, accuracy), control);
        }

        tracker.OnFitEnd(new FitResult(Array.Empty<EpochRecord>(), TimeSpan.Zero, false));
        weight.eq(2.0).all().item<bool>().Should().BeTrue("epoch 2 had the best accuracy");
        tracker.Best.Should().Be(0.9);
        tracker.BestEpoch!.Epoch.Should().Be(2);
    }

    [Theory]
    [InlineData(false, 2.0)]
    [InlineData(true, 3.0)]
    public void Best_model_tracker_keeps_the_first_or_the_last_of_tied_best_epochs(bool preferLaterTies, double expected)
    {
        using var net = new Mlp(2, Array.Empty<int>(), numClasses: 2);
        using var student = Student.FromModule(net);
        using var tracker = new BestModelTracker(student, preferLaterTies: preferLaterTies);
        var control = new TrainingControl();
        var weight = net.parameters().First();
        foreach (var (value, accuracy) in new[] { (1.0, 0.5), (2.0, 0.9), (3.0, 0.9), (4.0, 0.7) })
        {
            using (no_grad())
            {
                weight.fill_(value);
            }

            tracker.OnEpochEnd(Record((int)value, accuracy), control);
        }

        tracker.OnFitEnd(new FitResult(Array.Empty<EpochRecord>(), TimeSpan.Zero, false));
        weight.eq(expected).all().item<bool>().Should().BeTrue($"epochs 2 and 3 tie at 0.9; preferLaterTies = {preferLaterTies}");
        tracker.BestEpoch!.Epoch.Should().Be((int)expected);
        tracker.Best.Should().Be(0.9);
    }

    private static EpochRecord Record(int epoch, double? accuracy) => new()
    {
        Stage = "distill",
        Epoch = epoch,
        Steps = 1,
        Loss = 0,
        LossParts = new Dictionary<string, double>(),
        TrainMetrics = new Dictionary<string, IReadOnlyDictionary<string, double>>(),
        EvalMetrics = accuracy is { } a
            ? new Dictionary<string, IReadOnlyDictionary<string, double>> { ["student"] = new Dictionary<string, double> { ["accuracy"] = a } }
            : new Dictionary<string, IReadOnlyDictionary<string, double>>(),
        LearningRate = 0.1,
        Duration = TimeSpan.Zero,
    };
}
