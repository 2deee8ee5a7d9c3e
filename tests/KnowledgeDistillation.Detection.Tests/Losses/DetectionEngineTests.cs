using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Evaluation;
using KnowledgeDistillation.Detection.Fcos;
using KnowledgeDistillation.Detection.Losses;
using KnowledgeDistillation.Detection.Models;
using KnowledgeDistillation.Detection.Tests.Support;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Tests.Losses;

/// <summary>The detector, ICD and the feature-MSE baseline trained by Distiller.Fit.</summary>
public sealed class DetectionEngineTests
{
    private static DistillerOptions Options(int epochs, int seed = 1) => new() { Epochs = epochs, Seed = seed, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 3e-3, WeightDecay = 0 } };

    [Fact]
    public void A_detector_trained_alone_lowers_its_loss_and_scores_above_zero_map_on_its_training_images()
    {
        var source = DetectionSetup.Source(8, 4);
        random.manual_seed(3);
        using var net = new FcosDetector(DetectionSetup.Small());
        using var student = Student.FromModule(net);
        using var run = new Distiller(new IDistillationModel[] { student }, Recipes.Detector(2), Options(12));
        var result = run.Fit(source);
        result.History.First().LossParts.Keys.Should().Contain(new[] { "det", "det.cls", "det.box", "det.ctr" });
        result.History.Last().Loss.Should().BeLessThan(0.7 * result.History.First().Loss);
        var eval = new DetectionBatchSource(source.Dataset, new DetectionBatchOptions { BatchSize = 4, ImageSize = 64, Shuffle = false });
        DetectionEvaluator.Evaluate(net, eval).VocMap50.Should().BeGreaterThan(0.05);
    }

    [Fact]
    public void Icd_warms_up_then_distills_through_the_student_only_and_the_teacher_stays_frozen()
    {
        var source = DetectionSetup.Source(8, 4);
        random.manual_seed(4);
        using var teacherNet = new FcosDetector(DetectionSetup.Larger());
        using var studentNet = new FcosDetector(DetectionSetup.Small());
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var before = teacherNet.parameters().Select(p => p.clone()).ToArray();
        var options = new IcdOptions { Classes = 2, TeacherChannels = 16, Heads = 4, WarmupSteps = 2, Seed = 5 };
        var recipe = Recipes.Icd(options);
        using var run = new Distiller(new IDistillationModel[] { teacher, student }, recipe, Options(2));
        var result = run.Fit(source);
        result.History[0].LossParts["icd.distill"].Should().Be(0, "steps 0 and 1 are the warm-up");
        result.History[1].LossParts["icd.distill"].Should().BeGreaterThan(0);
        result.History[1].LossParts.Keys.Should().Contain(new[] { "det", "icd", "icd.aux", "icd.aux-acc" });
        teacherNet.parameters().Zip(before).All(p => (p.First - p.Second).abs().max().item<float>() == 0).Should().BeTrue("the teacher is frozen");
        var icd = (IcdLoss)((SumLoss)recipe.Stages[0].Loss).Terms.Single(t => t is IcdLoss);
        icd.StepsTaken.Should().Be(4);
        icd.State.Should().ContainSingle().Which.Export()["steps"].item<long>().Should().Be(4);
    }

    [Fact]
    public void Oracle4_distillation_gradient_reaches_the_student_and_its_projection_never_the_teacher_or_the_decoder_queries_and_keys()
    {
        var source = DetectionSetup.Source(4, 4);
        random.manual_seed(5);
        using var teacherNet = new FcosDetector(DetectionSetup.Larger());
        using var studentNet = new FcosDetector(DetectionSetup.Small());
        using var icd = new IcdLoss(new IcdOptions { Classes = 2, TeacherChannels = 16, Heads = 4, WarmupSteps = 0 });
        var batch = source.GetBatches(0, CPU).First();
        // The teacher's forward WITH a graph (the engine runs it without one): the loss itself must cut it.
        var outputs = new Dictionary<string, ModelOutput> { ["teacher"] = teacherNet.call(batch.Inputs), ["student"] = studentNet.call(batch.Inputs) };
        var result = icd.Compute(new DistillationContext(batch, outputs));
        result.Parts["icd.distill"].backward();
        teacherNet.parameters().All(NoGradient).Should().BeTrue("no gradient reaches the teacher");
        icd.Decoder.QueryProjection.weight!.grad.Should().BeNull("the mask is detached");
        icd.Decoder.KeyProjection.weight!.grad.Should().BeNull();
        icd.Decoder.ValueProjection.weight!.grad.Should().BeNull("teacher values are detached: W_v learns from the auxiliary task only");
        icd.StudentValues.parameters().All(HasGradient).Should().BeTrue();
        studentNet.named_parameters().Where(p => p.name.StartsWith("fpn", StringComparison.Ordinal)).Select(p => (Tensor)p.parameter).All(HasGradient).Should().BeTrue();
        // The auxiliary loss trains the decoder and never the student.
        foreach (var p in studentNet.parameters())
        {
            p.grad?.zero_();
        }

        icd.Compute(new DistillationContext(batch, outputs)).Parts["icd.aux"].backward();
        icd.Decoder.QueryProjection.weight!.grad!.abs().sum().item<float>().Should().BeGreaterThan(0);
        studentNet.parameters().All(NoGradient).Should().BeTrue();
    }

    private static bool NoGradient(Tensor p) => p.grad is null || p.grad.abs().sum().item<float>() == 0;

    private static bool HasGradient(Tensor p) => p.grad is not null && p.grad.abs().sum().item<float>() > 0;

    /// <summary>
    /// Oracle 5 in part: with a randomly initialised teacher on synthetic boxes, 80 epochs of 2 steps, the auxiliary modules
    /// train (localisation falls, identification reaches the prior's entropy H(1/6) = 0.451 nats from above), but the
    /// real/fake accuracy stays at the prior 5/6 (measured: every epoch after the third): 160 steps are inside the task's
    /// plateau. Leaving the plateau (the note's oracle 5) is tested with more steps in IcdAuxiliaryTaskTests.
    /// </summary>
    [Fact]
    public void Oracle5_the_auxiliary_modules_train_on_their_own_while_the_detectors_stay_fixed()
    {
        var source = DetectionSetup.Source(8, 4, seed: 2);
        random.manual_seed(6);
        using var teacherNet = new FcosDetector(DetectionSetup.Larger());
        using var studentNet = new FcosDetector(DetectionSetup.Small());
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var studentBefore = studentNet.parameters().First().clone();
        var loss = new IcdLoss(new IcdOptions { Classes = 2, TeacherChannels = 16, Heads = 4, WarmupSteps = int.MaxValue, Seed = 1 });
        var stage = new DistillationStage("aux", loss)
        {
            Trainable = Array.Empty<string>(),
            ParticipantOptimizers = new Dictionary<string, OptimizerOptions> { [DistillationStage.LossModulesOwner] = new() { Kind = OptimizerKind.AdamW, LearningRate = 5e-3, WeightDecay = 1e-4 } },
        };
        using var run = new Distiller(new IDistillationModel[] { teacher, student }, new[] { stage }, Options(20));
        var history = run.Fit(source).History;
        var (first, last) = (history.First().LossParts, history.TakeLast(3).ToArray());
        last.Average(h => h.LossParts["icd.aux-localise"]).Should().BeLessThan(first["icd.aux-localise"] / 2);
        first["icd.aux-identify"].Should().BeGreaterThan(0.6);
        last.Average(h => h.LossParts["icd.aux-identify"]).Should().BeLessThan(0.47);
        last.Average(h => h.LossParts["icd.aux-acc"]).Should().BeGreaterThanOrEqualTo(0.83);
        history.Should().OnlyContain(h => h.LossParts["icd.distill"] == 0, "the warm-up never ends here");
        (studentNet.parameters().First() - studentBefore).abs().max().item<float>().Should().Be(0, "no detector trains in this stage");
    }

    [Fact]
    public void Feature_mse_baseline_trains_its_adapters_and_reports_its_part()
    {
        var source = DetectionSetup.Source(4, 4);
        random.manual_seed(7);
        using var teacherNet = new FcosDetector(DetectionSetup.Larger());
        using var studentNet = new FcosDetector(DetectionSetup.Small());
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var recipe = Recipes.FpnFeatureMse(2, 16, 16, weight: 2);
        var adapters = recipe.Stages[0].Loss is SumLoss sum ? sum.Terms.OfType<WeightedLoss>().Single().Inner.TrainableModules : throw new InvalidOperationException();
        var before = adapters[0].parameters().First().clone();
        using var run = new Distiller(new IDistillationModel[] { teacher, student }, recipe, Options(2));
        var result = run.Fit(source);
        result.History.Last().LossParts.Should().ContainKey("fpn-mse");
        adapters.Should().HaveCount(5);
        (adapters[0].parameters().First() - before).abs().max().item<float>().Should().BeGreaterThan(0, "the adapters learn");
        ((Action)(() => _ = new FpnFeatureMseLoss(8, 16, adapters: false))).Should().Throw<ArgumentException>().WithParameterName("adapters");
    }

    [Fact]
    public void Losses_refuse_batches_without_detection_targets()
    {
        using var net = new FcosDetector(DetectionSetup.Small());
        var input = zeros(1, 3, 64, 64);
        var output = net.call(input);
        var batch = new Batch(input, zeros(1, dtype: ScalarType.Int64), zeros(1, dtype: ScalarType.Int64));
        var act = () => new FcosLoss(2).Compute(new DistillationContext(batch, new Dictionary<string, ModelOutput> { ["student"] = output }));
        act.Should().Throw<ArgumentException>().WithMessage("*G, 6]*");
    }
}
