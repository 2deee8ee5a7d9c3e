using FluentAssertions;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary>The v2 loss contract as the engine runs it: declared requirements, hooks, frozen modules, state in checkpoints, disposal.</summary>
[Collection(SerialCollection.Name)]
public sealed class LossContractEngineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-contract-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string CheckpointPath => Path.Combine(_directory, "checkpoint.kdck");

    // ---- state in checkpoints --------------------------------------------------------------------------------------

    [Theory]
    [InlineData(6)]  // mid-epoch (4 batches per epoch)
    [InlineData(8)]  // at an epoch boundary
    public void A_memory_bank_loss_resumes_bit_for_bit(int cancelAtStep)
    {
        var uninterrupted = TrainWithBank(checkpointed: true, out var bankUpdates);
        bankUpdates.Should().Be(12, "the step-end hook runs once per step");

        using var cancel = new CancellationTokenSource();
        var act = () => TrainWithBank(checkpointed: true, out _, cancel, cancelAtStep);
        act.Should().Throw<OperationCanceledException>();
        var resumed = TrainWithBank(checkpointed: true, out var resumedUpdates, resumeFrom: CheckpointPath);

        Losses(resumed).Should().Equal(Losses(uninterrupted));
        resumedUpdates.Should().Be(12, "the update counter is state too");
    }

    [Fact]
    public void Without_its_state_in_the_checkpoint_the_memory_bank_run_diverges()
    {
        // The control that shows the test above can fail: the same loss with its state hidden from checkpoints.
        var uninterrupted = TrainWithBank(checkpointed: false, out _);
        using var cancel = new CancellationTokenSource();
        var act = () => TrainWithBank(checkpointed: false, out _, cancel, 6);
        act.Should().Throw<OperationCanceledException>();
        var resumed = TrainWithBank(checkpointed: false, out _, resumeFrom: CheckpointPath);
        Losses(resumed).Should().NotEqual(Losses(uninterrupted));
    }

    [Theory]
    [InlineData(false, 6)]
    [InlineData(false, 9)]
    [InlineData(true, 6)]
    public void Dr_kd_with_the_previous_epoch_teacher_resumes_bit_for_bit(bool onDisk, int cancelAtStep)
    {
        var uninterrupted = TrainDrKd(onDisk, "full");
        using var cancel = new CancellationTokenSource();
        var act = () => TrainDrKd(onDisk, "resumed", cancel, cancelAtStep);
        act.Should().Throw<OperationCanceledException>();
        if (onDisk)
        {
            // A process that went on after its checkpoint (and was then killed) left newer rows on disk: resume restores the checkpoint's.
            using var store = new DiskSampleStore(Path.Combine(_directory, "resumed.store"), 32);
            store.Write(arange(32L), new[] { full(32, 3, 7f) });
        }

        var resumed = TrainDrKd(onDisk, "resumed", resumeFrom: CheckpointPath);
        Losses(resumed).Should().Equal(Losses(uninterrupted));
    }

    [Fact]
    public void Two_states_with_one_name_are_refused_at_start()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 3);
        using var net = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var student = Student.FromModule(net);
        using var first = new MemoryBankLoss(16, 3);
        using var second = new MemoryBankLoss(16, 3);
        var act = () => new Distiller(new[] { student }, Loss.Sum(new CrossEntropyLoss(), Loss.Weighted(1, first)), new DistillerOptions { Checkpoint = new CheckpointOptions { Directory = _directory } })
            .Fit(new DataLoader(data, 8));
        act.Should().NotThrow("one state once is fine");
        var twice = () => new Distiller(new[] { student }, new DistillationStage[] { new("a", first) { Epochs = 1 }, new("b", new WeightedLoss(1, second)) { Epochs = 1 } }, new DistillerOptions())
            .Fit(new DataLoader(data, 8));
        twice.Should().Throw<ArgumentException>().WithMessage("*Two loss states are named 'bank.memory'*");
    }

    // ---- declared requirements --------------------------------------------------------------------------------------

    [Fact]
    public void A_misspelled_participant_fails_before_any_step_naming_stage_loss_and_participants()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 3);
        using var teacherNet = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var studentNet = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var steps = 0;
        var distiller = new Distiller(new IDistillationModel[] { teacher, student }, new[] { new DistillationStage("distill-stage", new KDLoss(4, teacher: "techer")) }, new DistillerOptions())
        {
            Progress = new SynchronousProgress(() => steps++),
        };
        var act = () => distiller.Fit(new DataLoader(data, 8));
        act.Should().Throw<ArgumentException>()
            .WithMessage("Stage 'distill-stage': loss 'kd' reads participant 'techer', which does not exist. Participants active in the stage: 'teacher', 'student'.*");
        steps.Should().Be(0);
    }

    [Fact]
    public void A_participant_outside_the_stage_fails_at_start()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 3);
        using var teacherNet = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var studentNet = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var stage = new DistillationStage("only-student", Loss.Hinton()) { Active = new[] { "student" } };
        var act = () => new Distiller(new IDistillationModel[] { teacher, student }, new[] { stage }, new DistillerOptions()).Fit(new DataLoader(data, 8));
        act.Should().Throw<ArgumentException>().WithMessage("*'only-student'*'teacher', which is not active in this stage*'student'*");
    }

    [Fact]
    public void A_misspelled_feature_fails_before_any_step_listing_the_features_that_exist()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 3);
        using var net = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var student = Student.FromModule(net);
        var loss = new CrossEntropyLoss() + new FeatureNorm("student", "layers.fc9");
        var steps = 0;
        var distiller = new Distiller(new[] { student }, loss, new DistillerOptions()) { Progress = new SynchronousProgress(() => steps++) };
        var act = () => distiller.Fit(new DataLoader(data, 8));
        act.Should().Throw<ArgumentException>()
            .WithMessage("Stage 'distill': loss 'feature-norm' reads feature 'layers.fc9' of participant 'student', which it cannot produce. Features it can produce: *'layers.fc1'*'layers.head'*");
        steps.Should().Be(0);
    }

    [Fact]
    public void A_declared_feature_is_captured_without_naming_it_on_the_participant()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 3);
        using var net = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var student = Student.FromModule(net); // no captureFeatures: the loss's declaration is the one place
        var norm = new FeatureNorm("student", "layers.fc1");
        new Distiller(new[] { student }, new CrossEntropyLoss() + norm, new DistillerOptions { Epochs = 1 }).Fit(new DataLoader(data, 8));
        norm.SeenShapes.Should().NotBeEmpty().And.OnlyContain(s => s.SequenceEqual(new long[] { 8, 4 }));
    }

    [Fact]
    public void Missing_targets_or_extras_fail_at_the_first_batch_before_the_loss_runs()
    {
        using var inputs = randn(16, 8);
        using var unlabelled = new TensorDataset(inputs, null);
        using var net = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var student = Student.FromModule(net);
        var act = () => new Distiller(new[] { student }, new CrossEntropyLoss(), new DistillerOptions()).Fit(new DataLoader(unlabelled, 8));
        act.Should().Throw<ArgumentException>().WithMessage("Stage 'distill': loss 'ce' reads the batch's targets, but the training data has none*");

        using var labelled = SyntheticData.Blobs(16, classes: 3, seed: 3);
        var extra = new ExtraReader("mask");
        var missingExtra = () => new Distiller(new[] { student }, extra, new DistillerOptions()).Fit(new DataLoader(labelled, 8));
        missingExtra.Should().Throw<ArgumentException>().WithMessage("*reads the batch extra 'mask'*no extras*");
        extra.Calls.Should().Be(0);
    }

    [Fact]
    public void A_cached_teacher_keeps_exactly_the_declared_features()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 3);
        using var teacherNet = new Mlp(8, new[] { 4, 4 }, numClasses: 3);
        using var studentNet = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var cached = Teacher.FromModule(teacherNet, "teacher", false, "layers.fc1", "layers.fc2").WithOutputCache(data.Count);
        using var student = Student.FromModule(studentNet);
        var norm = new FeatureNorm("teacher", "layers.fc2");
        new Distiller(new IDistillationModel[] { cached, student }, Loss.Hinton() + norm, new DistillerOptions { Epochs = 2 }).Fit(new DataLoader(data, 8));
        cached.KeptFeatures.Should().BeEquivalentTo(new[] { "layers.fc2" });
        cached.Hits.Should().BeGreaterThan(0);
        norm.SeenFeatureNames.Should().OnlyContain(names => names.SequenceEqual(new[] { "layers.fc2" }), "misses and hits both return exactly the declared features");
    }

    // ---- hooks, frozen modules, disposal --------------------------------------------------------------------------

    [Fact]
    public void Under_the_sequential_update_compute_runs_per_turn_and_the_hooks_once_per_step_and_epoch()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 3);
        using var a = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var b = new Mlp(8, new[] { 4 }, numClasses: 3);
        var counter = new HookCounter();
        var stage = new DistillationStage("dml", Loss.MutualLearning(new[] { "a", "b" }) + counter) { UpdateOrder = ParticipantUpdateOrder.Sequential, Epochs = 3 };
        new Distiller(new IDistillationModel[] { Student.FromModule(a, "a"), Student.FromModule(b, "b") }, new[] { stage }, new DistillerOptions()).Fit(new DataLoader(data, 8));
        counter.Computes.Should().Be(12, "two turns per step, two steps per epoch, three epochs");
        counter.StepEnds.Should().Be(6);
        counter.EpochEnds.Should().Equal(0, 1, 2);
    }

    [Fact]
    public void Frozen_loss_modules_run_in_eval_mode_without_autograd_and_get_their_flags_back()
    {
        using var data = SyntheticData.Blobs(16, classes: 3, seed: 3);
        using var net = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var projector = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5));
        projector.parameters().Last().requires_grad = false; // a user's own choice survives
        var frozen = new FrozenProjection(projector);
        new Distiller(new[] { Student.FromModule(net) }, new CrossEntropyLoss() + frozen, new DistillerOptions { Epochs = 1 }).Fit(new DataLoader(data, 8));
        frozen.Observed.Should().NotBeEmpty().And.OnlyContain(o => !o.Training && !o.AnyRequiresGrad);
        projector.parameters().Select(p => p.requires_grad).Should().Equal(true, false);
    }

    [Fact]
    public void Disposing_the_distiller_disposes_its_losses()
    {
        using var net = new Mlp(8, new[] { 4 }, numClasses: 3);
        using var student = Student.FromModule(net);
        var bank = new MemoryBankLoss(4, 3);
        var distiller = new Distiller(new[] { student }, new CrossEntropyLoss() + bank, new DistillerOptions());
        distiller.Dispose();
        distiller.Dispose();
        FluentActions.Invoking(() => bank.Updates).Should().Throw<Exception>("the bank's tensors are released");
    }

    // ---- helpers ----------------------------------------------------------------------------------------------------

    private FitResult TrainWithBank(bool checkpointed, out long updates, CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null)
    {
        using var data = SyntheticData.Blobs(32, classes: 3, seed: 3);
        random.manual_seed(resumeFrom is null ? 4 : 99);
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var student = Student.FromModule(net);
        using var bank = new MemoryBankLoss(32, 3, checkpointed: checkpointed);
        var options = new DistillerOptions { Epochs = 3, Seed = 5, Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true } };
        var distiller = new Distiller(new[] { student }, new CrossEntropyLoss() + (0.5 * bank), options);
        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 8, seed: 6);
        var result = resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
        updates = bank.Updates;
        return result;
    }

    private FitResult TrainDrKd(bool onDisk, string storeName, CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null)
    {
        using var data = SyntheticData.Blobs(32, classes: 3, seed: 3);
        random.manual_seed(resumeFrom is null ? 4 : 99);
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var student = Student.FromModule(net);
        using var store = onDisk ? new DiskSampleStore(Path.Combine(_directory, storeName + ".store"), 32) : null;
        var source = store is null ? new PreviousEpochSelfTeacher(32) : new PreviousEpochSelfTeacher(store);
        var options = new DistillerOptions { Epochs = 3, Seed = 5, Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true } };
        using var distiller = new Distiller(new[] { student }, Loss.DrKd(4, 0.9, source), options);
        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var loader = new DataLoader(data, 8, seed: 6);
        return resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
    }

    private static double[] Losses(FitResult result) =>
        result.History.SelectMany(h => h.LossParts.OrderBy(p => p.Key).Select(p => p.Value).Prepend(h.Loss)).ToArray();

    private sealed class SynchronousProgress(Action report) : IProgress<StepInfo>
    {
        public void Report(StepInfo value) => report();
    }

    /// <summary>Reads a declared feature and reports its squared norm (weight 0: it only observes).</summary>
    private sealed class FeatureNorm(string participant, string feature) : DistillationLoss("feature-norm")
    {
        public List<long[]> SeenShapes { get; } = new();

        public List<string[]> SeenFeatureNames { get; } = new();

        public override LossRequirements Requirements => LossRequirements.None.Feature(participant, feature);

        public override LossResult Compute(DistillationContext context)
        {
            var output = context.Output(participant);
            SeenFeatureNames.Add(output.Features.Keys.Order(StringComparer.Ordinal).ToArray());
            var value = output.Feature(feature, participant);
            SeenShapes.Add(value.shape);
            return new LossResult(Name, value.pow(2).mean() * 0.0);
        }
    }

    private sealed class ExtraReader(string extra) : DistillationLoss("extra")
    {
        public int Calls { get; private set; }

        public override LossRequirements Requirements => LossRequirements.None.Logits("student").Extra(extra);

        public override LossResult Compute(DistillationContext context)
        {
            Calls++;
            return new LossResult(Name, context.Output("student").RequireLogits("student").sum());
        }
    }

    private sealed class HookCounter() : DistillationLoss("hooks")
    {
        public int Computes { get; private set; }

        public int StepEnds { get; private set; }

        public List<int> EpochEnds { get; } = new();

        public override LossResult Compute(DistillationContext context)
        {
            Computes++;
            return new LossResult(Name, zeros(1).squeeze());
        }

        public override void OnStepEnd(DistillationContext context) => StepEnds++;

        public override void OnEpochEnd(LossEpochInfo epoch) => EpochEnds.Add(epoch.Epoch);
    }

    private sealed class FrozenProjection(nn.Module<Tensor, Tensor> projector) : DistillationLoss("frozen-projection")
    {
        public List<(bool Training, bool AnyRequiresGrad)> Observed { get; } = new();

        public override IReadOnlyList<nn.Module> FrozenModules => new nn.Module[] { projector };

        public override LossRequirements Requirements => LossRequirements.None.Logits("student");

        public override LossResult Compute(DistillationContext context)
        {
            Observed.Add((projector.training, projector.parameters().Any(p => p.requires_grad)));
            var logits = context.Output("student").RequireLogits("student");
            return new LossResult(Name, projector.call(logits.detach()).pow(2).mean());
        }
    }
}
