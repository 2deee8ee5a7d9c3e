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
public sealed class DistillerTests
{
    private static DistillerOptions Options(int epochs = 3, double lr = 0.1) => new()
    {
        Epochs = epochs,
        Seed = 1,
        Optimizer = new OptimizerOptions { LearningRate = lr, Momentum = 0.9, WeightDecay = 0 },
    };

    [Fact]
    public void Student_alone_learns_and_history_reports_every_epoch()
    {
        using var data = SyntheticData.Blobs(256, classes: 3, seed: 2);
        using var test = SyntheticData.Blobs(128, classes: 3, seed: 2);
        random.manual_seed(3);
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var student = Student.FromModule(net);
        var distiller = new Distiller(new[] { student }, new CrossEntropyLoss(), Options(epochs: 4));

        var result = distiller.Fit(new DataLoader(data, 32, seed: 4), new DataLoader(test, 64, shuffle: false));

        result.History.Should().HaveCount(4);
        result.History.Select(h => h.Epoch).Should().Equal(0, 1, 2, 3);
        result.History.Should().OnlyContain(h => h.Steps == 8 && h.LossParts.ContainsKey("ce"));
        result.History[^1].Loss.Should().BeLessThan(result.History[0].Loss);
        result.History[^1].TrainMetrics["student"]["accuracy"].Should().BeGreaterThan(0.9);
        result.FinalMetric("student").Should().BeGreaterThan(0.9);
        result.WallTime.Should().BePositive();
    }

    [Fact]
    public void Frozen_teacher_is_not_updated_and_gets_no_gradient()
    {
        using var data = SyntheticData.Blobs(128, classes: 3, seed: 5);
        random.manual_seed(6);
        using var teacherNet = new Mlp(8, new[] { 32 }, numClasses: 3);
        using var studentNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        var before = teacherNet.parameters().Select(p => p.detach().clone()).ToArray();
        var studentBefore = studentNet.parameters().Select(p => p.detach().clone()).ToArray();
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);

        new Distiller(teacher, student, Loss.Hinton(4, 0.9), Options(epochs: 2)).Fit(new DataLoader(data, 32));

        teacherNet.parameters().Zip(before).All(p => Same(p.First, p.Second)).Should().BeTrue();
        teacherNet.parameters().All(p => p.grad is null).Should().BeTrue("a frozen teacher gets no gradient");
        studentNet.parameters().Zip(studentBefore).Any(p => !Same(p.First, p.Second)).Should().BeTrue();
        teacherNet.training.Should().BeFalse("a frozen teacher runs in eval mode");
    }

    [Fact]
    public void Same_seed_reproduces_the_loss_history_exactly()
    {
        double[] Run()
        {
            using var data = SyntheticData.Blobs(128, seed: 7);
            random.manual_seed(8);
            using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
            using var student = Student.FromModule(net);
            return new Distiller(new[] { student }, new CrossEntropyLoss(), Options(epochs: 2))
                .Fit(new DataLoader(data, 16, seed: 9)).History.Select(h => h.Loss).ToArray();
        }

        Run().Should().Equal(Run());
    }

    [Fact]
    public void Stage_trains_only_the_participants_it_names_and_loss_modules_are_optimised()
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 13);
        random.manual_seed(14);
        using var netA = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var netB = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var a = Student.FromModule(netA, "a");
        using var b = Student.FromModule(netB, "b");
        var projection = new ProjectedMatchLoss();
        var bBefore = netB.parameters().Select(p => p.detach().clone()).ToArray();
        var projectionBefore = projection.Projection.weight!.detach().clone();
        var stages = new[]
        {
            new DistillationStage("warm-a", Loss.Of(new CrossEntropyLoss("a", name: "ce_a")) + projection) { Trainable = new[] { "a" }, Epochs = 2 },
            new DistillationStage("both", new CrossEntropyLoss("a", name: "ce_a") + new CrossEntropyLoss("b", name: "ce_b")) { Epochs = 1 },
        };

        var distiller = new Distiller(new IDistillationModel[] { a, b }, stages, Options());
        var result = distiller.Fit(new DataLoader(data, 16));

        result.History.Select(h => h.Stage).Should().Equal("warm-a", "warm-a", "both");
        result.History[0].TrainMetrics.Keys.Should().Equal("a");
        Same(projection.Projection.weight!, projectionBefore).Should().BeFalse("a loss's own module is optimised");
        result.History[2].TrainMetrics.Keys.Should().BeEquivalentTo(new[] { "a", "b" });
        netB.parameters().Zip(bBefore).Any(p => !Same(p.First, p.Second)).Should().BeTrue("b trains in the second stage");
    }

    [Fact]
    public void Callback_can_stop_training_and_cancellation_stops_at_a_step_boundary()
    {
        using var data = SyntheticData.Blobs(64, seed: 15);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var distiller = new Distiller(new[] { student }, new CrossEntropyLoss(), Options(epochs: 10));
        distiller.Callbacks.Add(new StopAfter(2));
        var result = distiller.Fit(new DataLoader(data, 16));
        result.StoppedEarly.Should().BeTrue();
        result.History.Should().HaveCount(2);

        using var cts = new CancellationTokenSource();
        var counting = new CancelAfterSteps(cts, 5);
        var cancelled = new Distiller(new[] { student }, new CrossEntropyLoss(), Options(epochs: 10));
        cancelled.Callbacks.Add(counting);
        var act = () => cancelled.Fit(new DataLoader(data, 16), cancellationToken: cts.Token);
        act.Should().Throw<OperationCanceledException>();
        counting.Steps.Should().Be(5);
    }

    [Fact]
    public void Learning_rate_follows_the_schedule()
    {
        using var data = SyntheticData.Blobs(32, seed: 16);
        using var net = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var student = Student.FromModule(net);
        var options = Options(epochs: 4, lr: 0.1);
        options.LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.MultiStep, Milestones = new[] { 2, 3 }, Gamma = 0.5 };
        var result = new Distiller(new[] { student }, new CrossEntropyLoss(), options).Fit(new DataLoader(data, 16));
        result.History.Select(h => h.LearningRate).Should().Equal(0.1, 0.1, 0.05, 0.025);

        var cosine = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine, WarmupEpochs = 1, MinLearningRate = 0 };
        cosine.RateAt(1.0, 0, 5).Should().BeApproximately(0.5, 1e-12);
        cosine.RateAt(1.0, 1, 5).Should().BeApproximately(1.0, 1e-12);
        cosine.RateAt(1.0, 3, 5).Should().BeApproximately(0.5, 1e-12);
    }

    [Fact]
    public void Feature_capture_reads_named_submodules()
    {
        using var net = SmallCnn.Student();
        using var student = Student.FromModule(net, captureFeatures: new[] { "features", "features.block1" });
        using var images = randn(2, 1, 28, 28);
        using var indices = arange(2L);
        var output = student.Forward(new Batch(images, null, indices));
        output.Logits!.shape.Should().Equal(2, 10);
        output.Feature("features").shape.Should().Equal(2, 8, 7, 7);
        output.Feature("features.block1").shape.Should().Equal(2, 4, 14, 14);
        var missing = () => output.Feature("nope", "student");
        missing.Should().Throw<KeyNotFoundException>().WithMessage("*'features'*");
    }

    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    private sealed class StopAfter(int epochs) : IDistillationCallback
    {
        public void OnEpochEnd(EpochRecord record, TrainingControl control)
        {
            if (record.Epoch + 1 >= epochs)
            {
                control.Stop("test");
            }
        }
    }

    /// <summary>A user-defined loss that owns a trainable module (like a FitNets regressor).</summary>
    private sealed class ProjectedMatchLoss : DistillationLoss
    {
        public ProjectedMatchLoss()
            : base("projected")
        {
            Projection = nn.Linear(3, 3);
        }

        public TorchSharp.Modules.Linear Projection { get; }

        public override IReadOnlyList<nn.Module> TrainableModules => new nn.Module[] { Projection };

        public override LossResult Compute(DistillationContext context)
        {
            var logits = context.Output("a").RequireLogits("a");
            return new LossResult(Name, (Projection.call(logits.detach()) - 1.0).square().mean());
        }
    }
}
