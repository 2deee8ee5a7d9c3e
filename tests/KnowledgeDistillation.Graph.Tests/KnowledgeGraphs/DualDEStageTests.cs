using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>Training through <see cref="Distiller.Fit"/>: what is trainable in each DualDE stage, and that KGE training learns.</summary>
public sealed class DualDEStageTests
{
    private static DistillerOptions Options(int epochs, double lr = 0.05) => new()
    {
        Epochs = epochs,
        Seed = 1,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = lr, WeightDecay = 0 },
    };

    private static Tensor[] Snapshot(KgeModel m) => m.parameters().Select(p => p.detach().clone()).ToArray();

    private static bool Changed(KgeModel m, Tensor[] before) => m.parameters().Zip(before).Any(p => !p.First.detach().allclose(p.Second, 0, 0));

    [Fact]
    public void Stage_one_freezes_the_teacher_and_stage_two_trains_both()
    {
        var graph = KgTestData.Ring(10);
        random.manual_seed(5);
        using var teacherModel = new ComplEx(10, 2, 8);
        using var studentModel = new ComplEx(10, 2, 2);
        using var teacher = KgeParticipant.Teacher(teacherModel);
        using var student = KgeParticipant.Student(studentModel);
        using var weights = new DualDEWeights();
        var data = new TripleBatchSource(graph.Train, graph.EntityCount, batchSize: 8, negatives: 4, seed: 2);
        var teacherBefore = Snapshot(teacherModel);
        var studentBefore = Snapshot(studentModel);
        var aBefore = weights.StudentPositive.A.item<float>();

        var stages = Recipes.DualDE(weights, stage1Epochs: 2, stage2Epochs: 0).Stages;
        stages.Should().ContainSingle().Which.Trainable.Should().Equal("student");
        var distiller = new Distiller(new IDistillationModel[] { teacher, student }, stages, Options(2));
        distiller.Metrics.Clear();
        distiller.Fit(data);

        Changed(teacherModel, teacherBefore).Should().BeFalse("stage 1 keeps the teacher frozen");
        teacherModel.parameters().All(p => p.grad is null).Should().BeTrue("the frozen teacher gets no gradient");
        Changed(studentModel, studentBefore).Should().BeTrue();
        weights.StudentPositive.A.item<float>().Should().NotBe(aBefore, "the soft-label sigmoid is trained with the student");

        var both = Recipes.DualDE(weights, stage1Epochs: 1, stage2Epochs: 2).Stages;
        both.Select(s => s.Name).Should().Equal(DualDE.Stage1, DualDE.Stage2);
        both[1].Trainable.Should().BeEquivalentTo("student", "teacher");
        var twoStage = new Distiller(new IDistillationModel[] { teacher, student }, both, Options(1));
        twoStage.Metrics.Clear();
        var result = twoStage.Fit(data);

        result.History.Select(h => h.Stage).Should().Equal(DualDE.Stage1, DualDE.Stage2, DualDE.Stage2);
        result.History[0].LossParts.Keys.Should().NotContain("dualde.soft-teacher");
        result.History[^1].LossParts.Keys.Should().Contain(new[] { "dualde.soft-teacher", "dualde.hard-teacher", "dualde.q-pos" });
        Changed(teacherModel, teacherBefore).Should().BeTrue("stage 2 adjusts the teacher toward the student");
        var cTeacher = weights.TeacherPositive.A.item<float>();
        cTeacher.Should().NotBe(1f, "the teacher's sigmoid (c, e) learns in stage 2");
    }

    [Fact]
    public void A_student_trained_with_the_self_adversarial_loss_learns_the_ring_and_the_callback_reports_mrr()
    {
        var graph = KgTestData.Ring(12);
        random.manual_seed(7);
        using var model = new RotatE(12, 2, 8, margin: 4, initRange: 0.5);
        using var student = KgeParticipant.Student(model);
        var evaluator = LinkPredictionEvaluator.For(graph);
        var before = evaluator.Evaluate(model, graph.Train);
        var callback = new LinkPredictionCallback(model, evaluator, graph.Valid, everyEpochs: 10);
        var distiller = new Distiller(new[] { student }, new SelfAdversarialLoss(), Options(30, lr: 0.05));
        distiller.Metrics.Clear();
        distiller.Callbacks.Add(callback);

        var result = distiller.Fit(new TripleBatchSource(graph.Train, graph.EntityCount, batchSize: 11, negatives: 8, seed: 3));

        result.History[^1].Loss.Should().BeLessThan(result.History[0].Loss);
        var after = evaluator.Evaluate(model, graph.Train);
        after.Mrr.Should().BeGreaterThan(0.8).And.BeGreaterThan(before.Mrr);
        callback.History.Select(h => h.Epoch).Should().Equal(9, 19, 29);
        callback.Best.Should().NotBeNull();
    }

    [Fact]
    public void Early_stopping_stops_after_patience_evaluations_without_gain()
    {
        var graph = KgTestData.Ring(8);
        random.manual_seed(9);
        using var model = new DistMult(8, 2, 4);
        using var student = KgeParticipant.Student(model);
        var callback = new LinkPredictionCallback(model, LinkPredictionEvaluator.For(graph), graph.Valid, patience: 1);
        // A zero learning rate: the MRR never improves after the first evaluation.
        var distiller = new Distiller(new[] { student }, new SelfAdversarialLoss(), Options(10, lr: 1e-30));
        distiller.Metrics.Clear();
        distiller.Callbacks.Add(callback);
        var result = distiller.Fit(new TripleBatchSource(graph.Train, 8, 16, 2));
        result.StoppedEarly.Should().BeTrue();
        result.History.Should().HaveCount(2);
    }
}
