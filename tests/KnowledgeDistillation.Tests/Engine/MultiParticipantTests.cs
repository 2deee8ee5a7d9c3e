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
/// Several trained participants in one step (per-participant optimisers, simultaneous and sequential updates), models
/// evaluated beside the participants, and what each stage trains. Every expectation is computed by a hand-written
/// TorchSharp loop or by hand, never by the engine itself.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class MultiParticipantTests
{
    private static OptimizerOptions Sgd(double lr) => new() { LearningRate = lr, Momentum = 0, WeightDecay = 0 };

    /// <summary>CE for each peer plus KL(peer || self) with the peer detached: Deep Mutual Learning for two networks.</summary>
    private static DistillationLoss MutualLoss() =>
        new CrossEntropyLoss("a", name: "ce-a") + new CrossEntropyLoss("b", name: "ce-b")
        + new KDLoss(1.0, student: "a", teacher: "b", name: "kl-a") + new KDLoss(1.0, student: "b", teacher: "a", name: "kl-b");

    [Fact]
    public void Each_trained_participant_steps_with_its_own_optimiser_settings()
    {
        using var scope = NewDisposeScope();
        using var data = SyntheticData.Blobs(32, classes: 3, seed: 11);
        random.manual_seed(12);
        using var netA = new Mlp(8, new[] { 6 }, numClasses: 3);
        using var netB = new Mlp(8, new[] { 6 }, numClasses: 3);
        var a0 = netA.parameters().Select(p => p.detach().clone()).ToArray();
        var b0 = netB.parameters().Select(p => p.detach().clone()).ToArray();

        // Reference gradients of the one full batch, by hand.
        var (x, y) = (data.Inputs, data.Targets!);
        var gradA = Gradients(netA, () => nn.functional.cross_entropy(netA.call(x), y));
        var gradB = Gradients(netB, () => nn.functional.cross_entropy(netB.call(x), y));

        var stage = new DistillationStage("joint", new CrossEntropyLoss("a", name: "ce-a") + new CrossEntropyLoss("b", name: "ce-b"))
        {
            Optimizer = Sgd(0.5),
            ParticipantOptimizers = new Dictionary<string, OptimizerOptions> { ["a"] = Sgd(0.1), ["b"] = Sgd(0.01) },
        };
        using var a = Student.FromModule(netA, "a");
        using var b = Student.FromModule(netB, "b");
        new Distiller(new IDistillationModel[] { a, b }, new[] { stage }, new DistillerOptions { Epochs = 1, Seed = 1 })
            .Fit(new DataLoader(data, 32, shuffle: false));

        for (var i = 0; i < a0.Length; i++)
        {
            netA.parameters().ElementAt(i).ShouldBeCloseTo(a0[i] - 0.1 * gradA[i], "participant a with lr 0.1");
            netB.parameters().ElementAt(i).ShouldBeCloseTo(b0[i] - 0.01 * gradB[i], "participant b with lr 0.01");
        }
    }

    [Fact]
    public void An_optimiser_for_a_participant_the_stage_does_not_train_is_refused()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 1);
        using var netA = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        using var a = Student.FromModule(netA, "a");
        var stage = new DistillationStage("s", new CrossEntropyLoss("a"))
        {
            ParticipantOptimizers = new Dictionary<string, OptimizerOptions> { ["ghost"] = Sgd(0.1) },
        };

        var act = () => new Distiller(new[] { a }, new[] { stage }).Fit(new DataLoader(data, 16));

        act.Should().Throw<ArgumentException>().WithMessage("*'ghost'*does not train*");
    }

    [Fact]
    public void Sequential_update_matches_the_hand_written_Deep_Mutual_Learning_algorithm()
    {
        using var scope = NewDisposeScope();
        using var data = SyntheticData.Blobs(48, classes: 3, seed: 21);
        random.manual_seed(22);
        using var netA = new Mlp(8, new[] { 10 }, numClasses: 3);
        using var netB = new Mlp(8, new[] { 10 }, numClasses: 3);
        using var refA = new Mlp(8, new[] { 10 }, numClasses: 3);
        using var refB = new Mlp(8, new[] { 10 }, numClasses: 3);
        refA.load_state_dict(netA.state_dict());
        refB.load_state_dict(netB.state_dict());

        // Algorithm 1 of Zhang et al. (2018), written out: update a, recompute, update b.
        using var optA = optim.SGD(refA.parameters(), 0.2);
        using var optB = optim.SGD(refB.parameters(), 0.05);
        foreach (var (x, y) in Batches(data, 16))
        {
            using var step = NewDisposeScope();
            var za = refA.call(x);
            var zb = refB.call(x).detach();
            optA.zero_grad();
            (nn.functional.cross_entropy(za, y) + KDLoss.Value(za, zb, 1.0)).backward();
            optA.step();
            za = refA.call(x).detach();
            zb = refB.call(x);
            optB.zero_grad();
            (nn.functional.cross_entropy(zb, y) + KDLoss.Value(zb, za, 1.0)).backward();
            optB.step();
        }

        var stage = new DistillationStage("dml", MutualLoss())
        {
            UpdateOrder = ParticipantUpdateOrder.Sequential,
            ParticipantOptimizers = new Dictionary<string, OptimizerOptions> { ["a"] = Sgd(0.2), ["b"] = Sgd(0.05) },
        };
        using var a = Student.FromModule(netA, "a");
        using var b = Student.FromModule(netB, "b");
        var result = new Distiller(new IDistillationModel[] { a, b }, new[] { stage }, new DistillerOptions { Epochs = 1, Seed = 1 })
            .Fit(new DataLoader(data, 16, shuffle: false));

        result.History.Single().Steps.Should().Be(3);
        netA.parameters().Zip(refA.parameters()).Should().OnlyContain(p => p.First.allclose(p.Second, 1e-5, 1e-6, false));
        netB.parameters().Zip(refB.parameters()).Should().OnlyContain(p => p.First.allclose(p.Second, 1e-5, 1e-6, false));
    }

    [Theory]
    [InlineData(ParticipantUpdateOrder.Simultaneous, true)]
    [InlineData(ParticipantUpdateOrder.Sequential, false)]
    public void Identical_peers_stay_identical_only_under_the_simultaneous_update(ParticipantUpdateOrder order, bool identical)
    {
        using var scope = NewDisposeScope();
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 31);
        random.manual_seed(32);
        using var netA = new Mlp(8, new[] { 12 }, numClasses: 3);
        using var netB = new Mlp(8, new[] { 12 }, numClasses: 3);
        netB.load_state_dict(netA.state_dict());
        using var a = Student.FromModule(netA, "a");
        using var b = Student.FromModule(netB, "b");
        var stage = new DistillationStage("dml", MutualLoss()) { UpdateOrder = order, Optimizer = Sgd(0.3) };

        var result = new Distiller(new IDistillationModel[] { a, b }, new[] { stage }, new DistillerOptions { Epochs = 2, Seed = 3 })
            .Fit(new DataLoader(data, 16, seed: 4));

        var same = netA.parameters().Zip(netB.parameters()).All(p => p.First.eq(p.Second).all().item<bool>());
        same.Should().Be(identical);
        if (identical)
        {
            result.History.Should().OnlyContain(h => h.LossParts["ce-a"] == h.LossParts["ce-b"] && h.LossParts["kl-a"] == h.LossParts["kl-b"]);
        }
    }

    [Fact]
    public void Stages_train_only_what_they_name_and_the_loss_modules_they_own()
    {
        using var scope = NewDisposeScope();
        using var data = SyntheticData.Blobs(32, classes: 3, seed: 41);
        random.manual_seed(42);
        using var teacherNet = new Mlp(8, new[] { 6 }, numClasses: 3);
        using var studentNet = new Mlp(8, new[] { 6 }, numClasses: 3);
        var probe = new ProbeLoss();
        var stages = new[]
        {
            // Stage 1: like IE-KD's autoencoder stage - only the loss's module learns, on the frozen teacher's outputs.
            new DistillationStage("pre", probe) { Epochs = 2, Active = new[] { "teacher" }, Trainable = Array.Empty<string>() },
            new DistillationStage("distill", Loss.Hinton(4, 0.9)) { Epochs = 2 },
        };
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var seen = new List<(string Stage, string[] Teacher, string[] Student, string[] Probe)>();
        var distiller = new Distiller(new IDistillationModel[] { teacher, student }, stages, new DistillerOptions { Epochs = 1, Seed = 5, Optimizer = Sgd(0.1) });
        distiller.Callbacks.Add(new Snapshot(stage => seen.Add((stage, Hash(teacherNet), Hash(studentNet), Hash(probe.Head)))));
        var before = (Hash(teacherNet), Hash(studentNet), Hash(probe.Head));

        distiller.Fit(new DataLoader(data, 16, seed: 6));

        seen.Should().HaveCount(4);
        var (pre, distill) = (seen[1], seen[3]);
        pre.Teacher.Should().Equal(before.Item1);
        pre.Student.Should().Equal(before.Item2, "the student is not active in the pre-training stage");
        pre.Probe.Should().NotEqual(before.Item3, "the loss's own module trains in its stage");
        distill.Teacher.Should().Equal(before.Item1, "the teacher stays frozen");
        distill.Student.Should().NotEqual(before.Item2);
        distill.Probe.Should().Equal(pre.Probe, "the module belongs to stage 1's loss only");
        probe.StudentSeen.Should().BeFalse("inactive participants are not run");
    }

    [Fact]
    public void Evaluation_models_are_evaluated_beside_the_participants_and_names_must_differ()
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 51);
        random.manual_seed(52);
        using var netA = new Mlp(8, new[] { 8 }, numClasses: 3);
        using var netB = new Mlp(8, new[] { 8 }, numClasses: 3);
        using var a = Student.FromModule(netA, "a");
        using var b = Student.FromModule(netB, "b");
        using var ensemble = new AverageOf("ensemble", a, b);
        var distiller = new Distiller(new IDistillationModel[] { a, b }, MutualLoss(), new DistillerOptions { Epochs = 2, Seed = 1, Optimizer = Sgd(0.3) });
        distiller.EvaluationModels.Add(ensemble);

        var result = distiller.Fit(new DataLoader(data, 16, seed: 2), new DataLoader(data, 64, shuffle: false));

        result.History[^1].EvalMetrics.Keys.Should().BeEquivalentTo(new[] { "a", "b", "ensemble" });
        result.History[^1].EvalMetrics["ensemble"]["accuracy"].Should().BeInRange(0, 1);

        distiller.EvaluationModels.Add(new AverageOf("a", a, b));
        var clash = () => distiller.Evaluate(new DataLoader(data, 64, shuffle: false));
        clash.Should().Throw<InvalidOperationException>().WithMessage("*'a'*");
    }

    [Fact]
    public void A_sequential_run_with_per_peer_optimisers_resumes_bit_for_bit()
    {
        var directory = Directory.CreateTempSubdirectory("kd-seq-").FullName;
        try
        {
            var uninterrupted = TrainPeers(directory, cancelAtStep: -1, resume: false);
            var act = () => TrainPeers(directory, cancelAtStep: 6, resume: false);
            act.Should().Throw<OperationCanceledException>();
            var resumed = TrainPeers(directory, cancelAtStep: -1, resume: true);

            resumed.Select(h => (h.Loss, string.Join(",", h.LossParts.OrderBy(p => p.Key).Select(p => p.Value))))
                .Should().Equal(uninterrupted.Select(h => (h.Loss, string.Join(",", h.LossParts.OrderBy(p => p.Key).Select(p => p.Value)))));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Two peers (Adam and SGD with momentum: per-optimiser state matters), sequential updates, 3 epochs of 4 batches.</summary>
    private static IReadOnlyList<EpochRecord> TrainPeers(string directory, int cancelAtStep, bool resume)
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 71);
        random.manual_seed(resume ? 999 : 72); // a resumed run must not depend on its fresh initialisation
        using var netA = new Mlp(8, new[] { 10 }, numClasses: 3);
        using var netB = new Mlp(8, new[] { 10 }, numClasses: 3);
        using var a = Student.FromModule(netA, "a");
        using var b = Student.FromModule(netB, "b");
        var stage = new DistillationStage("dml", MutualLoss())
        {
            UpdateOrder = ParticipantUpdateOrder.Sequential,
            ParticipantOptimizers = new Dictionary<string, OptimizerOptions>
            {
                ["a"] = new() { Kind = OptimizerKind.Adam, LearningRate = 0.01 },
                ["b"] = new() { LearningRate = 0.1, Momentum = 0.9 },
            },
        };
        var options = new DistillerOptions { Epochs = 3, Seed = 73, Checkpoint = new CheckpointOptions { Directory = directory, Overwrite = true } };
        var distiller = new Distiller(new IDistillationModel[] { a, b }, new[] { stage }, options);
        using var cancel = new CancellationTokenSource();
        if (cancelAtStep >= 0)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 16, seed: 74);
        var result = resume
            ? distiller.Resume(Path.Combine(directory, "checkpoint.kdck"), loader)
            : distiller.Fit(loader, cancellationToken: cancel.Token);
        return result.History;
    }

    private static Tensor[] Gradients(nn.Module module, Func<Tensor> loss)
    {
        module.zero_grad();
        loss().backward();
        var grads = module.parameters().Select(p => p.grad!.detach().clone()).ToArray();
        module.zero_grad();
        return grads;
    }

    private static IEnumerable<(Tensor X, Tensor Y)> Batches(TensorDataset data, int size)
    {
        for (var start = 0; start < data.Count; start += size)
        {
            yield return (data.Inputs.narrow(0, start, size), data.Targets!.narrow(0, start, size));
        }
    }

    private static string[] Hash(nn.Module module) =>
        module.parameters().Select(p => string.Join(",", p.detach().flatten().data<float>().ToArray())).ToArray();

    /// <summary>A loss with its own trainable module, reading only the teacher (like an autoencoder pre-training stage).</summary>
    private sealed class ProbeLoss : DistillationLoss
    {
        public ProbeLoss()
            : base("probe")
        {
        }

        public TorchSharp.Modules.Linear Head { get; } = nn.Linear(3, 3);

        public bool StudentSeen { get; private set; }

        public override IReadOnlyList<nn.Module> TrainableModules => new nn.Module[] { Head };

        public override LossResult Compute(DistillationContext context)
        {
            StudentSeen |= context.Outputs.ContainsKey("student");
            var logits = context.Output("teacher").RequireLogits("teacher");
            return new LossResult(Name, nn.functional.cross_entropy(Head.call(logits), context.Batch.RequireTargets()));
        }
    }

    private sealed class Snapshot(Action<string> take) : IDistillationCallback
    {
        private string _stage = "";

        public void OnStageStart(DistillationStage stage)
        {
            _stage = stage.Name;
            take(_stage + ":start");
        }

        public void OnEpochEnd(EpochRecord record, TrainingControl control)
        {
            if (record.Epoch == 1)
            {
                take(_stage);
            }
        }
    }

    private sealed class AverageOf(string name, IDistillationModel first, IDistillationModel second) : IDistillationModel
    {
        public string Name => name;

        public nn.Module Module { get; } = nn.Identity();

        public ModelOutput Forward(Batch batch) =>
            new((first.Forward(batch).Logits!.softmax(1) + second.Forward(batch).Logits!.softmax(1)) / 2);

        public void Dispose() => Module.Dispose();
    }
}

internal static class TensorAssertions
{
    public static void ShouldBeCloseTo(this Tensor actual, Tensor expected, string because) =>
        actual.allclose(expected, 1e-5, 1e-6, false).Should().BeTrue(because);
}
