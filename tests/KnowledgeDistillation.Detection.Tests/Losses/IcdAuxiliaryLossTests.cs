using FluentAssertions;
using KnowledgeDistillation.Detection.Losses;
using KnowledgeDistillation.Detection.Models;
using KnowledgeDistillation.Detection.Tests.Support;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Losses;

/// <summary>ICD's auxiliary task as a term of its own, and the recipe's auxiliary-first stage built on it.</summary>
public sealed class IcdAuxiliaryLossTests
{
    private static IcdOptions Options(int warmup = 0) => new() { Classes = 2, TeacherChannels = 16, Heads = 4, WarmupSteps = warmup, Seed = 3 };

    [Fact]
    public void It_computes_exactly_the_auxiliary_part_of_the_icd_term_and_reads_only_the_teacher()
    {
        var source = DetectionSetup.Source(4, 4);
        random.manual_seed(11);
        using var teacherNet = new FcosDetector(DetectionSetup.Larger());
        using var studentNet = new FcosDetector(DetectionSetup.Small());
        using var icd = new IcdLoss(Options());
        var auxiliary = new IcdAuxiliaryLoss(icd);
        var batch = source.GetBatches(0, CPU).First();
        using var noGrad = no_grad();
        var outputs = new Dictionary<string, ModelOutput> { ["teacher"] = teacherNet.call(batch.Inputs), ["student"] = studentNet.call(batch.Inputs) };
        var context = new DistillationContext(batch, outputs, "distill", 2, 7);
        var full = icd.Compute(context);
        var alone = auxiliary.Compute(context);

        auxiliary.Name.Should().Be("icd-aux");
        alone.Total.item<float>().Should().Be(full.Parts["icd.aux"].item<float>(), "the same queries (seed, epoch, step) through the same modules");
        foreach (var key in new[] { "identify", "localise", "acc", "recall" })
        {
            alone.Parts["icd-aux." + key].item<float>().Should().Be(full.Parts["icd.aux-" + key].item<float>(), key);
        }

        alone.Parts.Keys.Should().BeEquivalentTo(new[] { "icd-aux", "icd-aux.identify", "icd-aux.localise", "icd-aux.acc", "icd-aux.recall" });
        auxiliary.Requirements.Participants.Should().Equal("teacher");
        auxiliary.TrainableModules.Should().Equal(icd.Encoder, icd.Decoder, icd.AuxiliaryHead);
        auxiliary.TrainableModules.Should().NotContain(icd.StudentValues, "only the distillation trains the student-side projection");

        // Teacher-only outputs suffice (the student does not run in the auxiliary stage).
        var teacherOnly = new Dictionary<string, ModelOutput> { ["teacher"] = outputs["teacher"] };
        auxiliary.Compute(new DistillationContext(batch, teacherOnly, "icd-aux", 2, 7)).Total.item<float>().Should().Be(alone.Total.item<float>());
    }

    [Fact]
    public void The_recipe_trains_the_auxiliary_modules_first_with_the_detectors_fixed_then_distills_from_them()
    {
        var source = DetectionSetup.Source(8, 4);
        random.manual_seed(12);
        using var teacherNet = new FcosDetector(DetectionSetup.Larger());
        using var studentNet = new FcosDetector(DetectionSetup.Small());
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var stageOptimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 5e-3, WeightDecay = 1e-4 };
        var recipe = Recipes.Icd(Options(), auxiliaryEpochs: 2, auxiliaryStageOptimizer: stageOptimizer);
        recipe.Stages.Select(s => s.Name).Should().Equal("icd-aux", DistillationRecipe.SingleStage);
        recipe.Stages[0].Epochs.Should().Be(2);
        recipe.Stages[0].Trainable.Should().BeEmpty();
        recipe.Stages[0].ParticipantOptimizers![DistillationStage.LossModulesOwner].Should().BeSameAs(stageOptimizer);
        recipe.Stages[1].ParticipantOptimizers![DistillationStage.LossModulesOwner].LearningRate.Should().Be(1e-4, "the official setting while the student trains");
        var icd = (IcdLoss)((SumLoss)recipe.Stages[1].Loss).Terms.Single(t => t is IcdLoss);
        ((IcdAuxiliaryLoss)recipe.Stages[0].Loss).Icd.Should().BeSameAs(icd, "both stages train the same modules");

        var studentBefore = studentNet.parameters().Select(p => p.clone()).ToArray();
        var encoderBefore = icd.Encoder.parameters().Select(p => p.clone()).ToArray();
        var projectionBefore = icd.StudentValues.parameters().Select(p => p.clone()).ToArray();
        var teacherBefore = teacherNet.parameters().Select(p => p.clone()).ToArray();
        var snapshots = new SnapshotAtDistillationStart(studentNet, icd);
        using var run = new Distiller(new IDistillationModel[] { teacher, student }, recipe, new DistillerOptions { Epochs = 1, Seed = 1, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 3e-3, WeightDecay = 0 } });
        run.Callbacks.Add(snapshots);
        var history = run.Fit(source).History;

        history.Select(h => h.Stage).Should().Equal("icd-aux", "icd-aux", DistillationRecipe.SingleStage);
        history[0].LossParts.Keys.Should().Contain(new[] { "icd-aux", "icd-aux.identify", "icd-aux.acc" }).And.NotContain(new[] { "det", "icd.distill" });
        history[2].LossParts["icd.distill"].Should().BeGreaterThan(0, "no warm-up left in the distillation stage");
        Changed(encoderBefore, snapshots.Encoder!).Should().BeTrue("the auxiliary stage trains the encoder");
        Changed(studentBefore, snapshots.Student!).Should().BeFalse("no detector trains in the auxiliary stage");
        Changed(projectionBefore, snapshots.Projection!).Should().BeFalse("the student-side projection learns from the distillation only");
        Changed(studentBefore, studentNet.parameters().ToArray()).Should().BeTrue("the student trains in the distillation stage");
        Changed(teacherBefore, teacherNet.parameters().ToArray()).Should().BeFalse("the teacher is frozen throughout");
        icd.StepsTaken.Should().Be(2, "the ICD term counts its own stage's steps: its warm-up starts with the distillation");
    }

    [Fact]
    public void Bad_arguments_are_refused_with_their_names()
    {
        ((Action)(() => _ = new IcdAuxiliaryLoss(null!))).Should().Throw<ArgumentNullException>().WithParameterName("icd");
        ((Action)(() => _ = Recipes.Icd(Options(), auxiliaryEpochs: -1))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("auxiliaryEpochs");
        using var icd = new IcdLoss(Options());
        var auxiliary = new IcdAuxiliaryLoss(icd);
        var source = DetectionSetup.Source(4, 4);
        var batch = source.GetBatches(0, CPU).First();
        using var net = new FcosDetector(DetectionSetup.Small() with { FpnChannels = 8 });
        var outputs = new Dictionary<string, ModelOutput> { ["teacher"] = net.call(batch.Inputs) };
        ((Action)(() => auxiliary.Compute(new DistillationContext(batch, outputs)))).Should().Throw<ArgumentException>().WithMessage("*[B, 16, h, w]*");
    }

    private static bool Changed(IReadOnlyList<Tensor> before, IReadOnlyList<Tensor> after) =>
        before.Zip(after).Any(p => (p.First - p.Second).abs().max().item<float>() > 0);

    /// <summary>Copies the student's, the encoder's and the projection's parameters when the distillation stage starts.</summary>
    private sealed class SnapshotAtDistillationStart(FcosDetector student, IcdLoss icd) : IDistillationCallback
    {
        public Tensor[]? Student { get; private set; }

        public Tensor[]? Encoder { get; private set; }

        public Tensor[]? Projection { get; private set; }

        public void OnStageStart(DistillationStage stage)
        {
            if (stage.Name == DistillationRecipe.SingleStage)
            {
                Student = student.parameters().Select(p => p.clone()).ToArray();
                Encoder = icd.Encoder.parameters().Select(p => p.clone()).ToArray();
                Projection = icd.StudentValues.parameters().Select(p => p.clone()).ToArray();
            }
        }
    }
}
