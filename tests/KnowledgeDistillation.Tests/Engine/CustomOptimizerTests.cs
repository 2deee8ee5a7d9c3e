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

/// <summary>
/// Optimisers from <see cref="OptimizerOptions.Factory"/>: they train like a hand-written TorchSharp loop with the same
/// optimiser, follow the learning-rate schedule, checkpoint and resume exactly, and are checked when created.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class CustomOptimizerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-custom-opt-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static OptimizerOptions RmsProp(double lr) =>
        OptimizerOptions.Custom("rmsprop", (parameters, o) => optim.RMSProp(parameters, o.LearningRate, momentum: 0.5), lr);

    [Fact]
    public void A_custom_optimiser_trains_like_the_hand_written_loop_bit_for_bit_and_follows_the_schedule()
    {
        using var scope = NewDisposeScope();
        using var data = SyntheticData.Blobs(48, classes: 3, seed: 31);
        random.manual_seed(32);
        using var net = new Mlp(8, new[] { 10 }, numClasses: 3);
        using var reference = new Mlp(8, new[] { 10 }, numClasses: 3);
        reference.load_state_dict(net.state_dict());

        // The same optimiser by hand: RMSprop with momentum, the rate halved after the first epoch.
        using (var opt = optim.RMSProp(reference.parameters(), 0.01, momentum: 0.5))
        {
            for (var epoch = 0; epoch < 3; epoch++)
            {
                foreach (var group in opt.ParamGroups)
                {
                    group.LearningRate = epoch == 0 ? 0.01 : 0.01 * 0.5;
                }

                for (var start = 0; start < data.Count; start += 16)
                {
                    using var step = NewDisposeScope();
                    opt.zero_grad();
                    nn.functional.cross_entropy(reference.call(data.Inputs.narrow(0, start, 16)), data.Targets!.narrow(0, start, 16)).backward();
                    opt.step();
                }
            }
        }

        var calls = new List<(int Parameters, OptimizerOptions Options)>();
        var options = new DistillerOptions
        {
            Epochs = 3,
            Seed = 1,
            LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.MultiStep, Milestones = new[] { 1 }, Gamma = 0.5 },
            Optimizer = OptimizerOptions.Custom(
                "rmsprop",
                (parameters, o) =>
                {
                    calls.Add((parameters.Count, o));
                    return optim.RMSProp(parameters, o.LearningRate, momentum: 0.5);
                },
                learningRate: 0.01),
        };
        using var student = Student.FromModule(net);
        var result = new Distiller(new[] { student }, new CrossEntropyLoss(), options).Fit(new DataLoader(data, 16, shuffle: false));

        calls.Should().ContainSingle().Which.Should().Be((net.parameters().Count(), options.Optimizer));
        result.History.Select(h => h.LearningRate).Should().Equal(0.01, 0.005, 0.005);
        result.History[^1].Loss.Should().BeLessThan(result.History[0].Loss, "the custom optimiser trains");
        net.parameters().Zip(reference.parameters()).Should().OnlyContain(p => p.First.equal(p.Second).all().item<bool>(), "bit for bit on CPU");
    }

    [Theory]
    [InlineData(6)] // mid-epoch (4 batches per epoch)
    [InlineData(8)] // at an epoch boundary
    public void A_run_with_a_custom_optimiser_resumes_bit_for_bit(int cancelAtStep)
    {
        var uninterrupted = Train(RmsProp(0.01), cancelAtStep: -1, resume: false);
        var act = () => Train(RmsProp(0.01), cancelAtStep, resume: false);
        act.Should().Throw<OperationCanceledException>();

        var resumed = Train(RmsProp(0.01), cancelAtStep: -1, resume: true);

        resumed.Select(h => (h.Epoch, h.Steps, h.Loss, h.LearningRate)).Should().Equal(uninterrupted.Select(h => (h.Epoch, h.Steps, h.Loss, h.LearningRate)));
    }

    [Fact]
    public void A_checkpoint_is_refused_for_another_optimiser()
    {
        var act = () => Train(RmsProp(0.01), cancelAtStep: 6, resume: false);
        act.Should().Throw<OperationCanceledException>();

        var builtIn = () => Train(new OptimizerOptions { LearningRate = 0.01 }, cancelAtStep: -1, resume: true);
        builtIn.Should().Throw<InvalidDataException>().WithMessage("*optimiser state for [student:rmsprop(RMSProp)]*now uses [student:SGD]*");

        var otherName = () => Train(OptimizerOptions.Custom("rms", (p, o) => optim.RMSProp(p, o.LearningRate, momentum: 0.5)), cancelAtStep: -1, resume: true);
        otherName.Should().Throw<InvalidDataException>().WithMessage("*[student:rmsprop(RMSProp)]*[student:rms(RMSProp)]*");

        var otherType = () => Train(OptimizerOptions.Custom("rmsprop", (p, o) => optim.Adagrad(p, o.LearningRate)), cancelAtStep: -1, resume: true);
        otherType.Should().Throw<InvalidDataException>().WithMessage("*[student:rmsprop(RMSProp)]*[student:rmsprop(Adagrad)]*same FactoryName*");

        var act2 = () => Train(new OptimizerOptions { LearningRate = 0.01 }, cancelAtStep: 6, resume: false);
        act2.Should().Throw<OperationCanceledException>();
        var custom = () => Train(RmsProp(0.01), cancelAtStep: -1, resume: true);
        custom.Should().Throw<InvalidDataException>().WithMessage("*[student:SGD]*[student:rmsprop(RMSProp)]*");
    }

    [Fact]
    public void A_factory_that_returns_null_or_an_optimiser_over_other_parameters_is_refused()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 1);
        using var net = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var other = nn.Linear(3, 3);
        using var student = Student.FromModule(net);

        FitWith(OptimizerOptions.Custom("nothing", (_, _) => null!))
            .Should().Throw<InvalidOperationException>().WithMessage("*factory 'nothing' (for 'student') returned null*");
        FitWith(OptimizerOptions.Custom("foreign", (_, o) => optim.Adagrad(other.parameters(), o.LearningRate)))
            .Should().Throw<InvalidOperationException>().WithMessage("*factory 'foreign'*does not cover exactly the 4 parameter(s)*4 of them are missing*holds 2 other(s)*");
        FitWith(OptimizerOptions.Custom("partial", (p, o) => optim.Adagrad(p.Take(1), o.LearningRate)))
            .Should().Throw<InvalidOperationException>().WithMessage("*factory 'partial'*3 of them are missing*holds 0 other(s)*");

        FitWith(new OptimizerOptions { Factory = (p, o) => optim.Adagrad(p, o.LearningRate) })
            .Should().Throw<ArgumentException>().WithMessage("*needs a FactoryName*").Which.ParamName.Should().Be("Optimizer.FactoryName");
        FitWith(new OptimizerOptions { FactoryName = "rmsprop" })
            .Should().Throw<ArgumentException>().WithMessage("*'rmsprop'*no Factory*").Which.ParamName.Should().Be("Optimizer.Factory");

        Func<FitResult> FitWith(OptimizerOptions optimizer) =>
            () => new Distiller(new[] { student }, new CrossEntropyLoss(), new DistillerOptions { Epochs = 1, Optimizer = optimizer }).Fit(new DataLoader(data, 16));
    }

    /// <summary>A student and a trainable dropout teacher (RNG state matters), 3 epochs of 4 batches, cosine schedule, checkpoints.</summary>
    private IReadOnlyList<EpochRecord> Train(OptimizerOptions optimizer, int cancelAtStep, bool resume)
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 41);
        random.manual_seed(resume ? 999 : 42); // a resumed run must not depend on its fresh initialisation
        using var net = new Mlp(8, new[] { 10 }, numClasses: 3);
        using var student = Student.FromModule(net);
        var options = new DistillerOptions
        {
            Epochs = 3,
            Seed = 43,
            Optimizer = optimizer,
            LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine },
            Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true },
        };
        var distiller = new Distiller(new[] { student }, new CrossEntropyLoss(), options);
        using var cancel = new CancellationTokenSource();
        if (cancelAtStep >= 0)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 16, seed: 44);
        var result = resume
            ? distiller.Resume(Path.Combine(_directory, "checkpoint.kdck"), loader)
            : distiller.Fit(loader, cancellationToken: cancel.Token);
        return result.History;
    }
}
