using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>FT's recipe and CC through the engine: which modules train in which stage.</summary>
[Collection(SerialCollection.Name)]
public class FtCcEngineTests
{
    private const string Map = "features.block2";
    private const string Flat = "classifier.flatten";

    [Fact]
    public void Ft_recipe_trains_the_paraphraser_then_freezes_it_and_trains_student_and_translator()
    {
        using var data = SyntheticData.Images(48, classes: 4, seed: 1);
        random.manual_seed(2);
        using var teacherNet = new SmallCnn(new[] { 8, 6 }, numClasses: 4);
        using var studentNet = new SmallCnn(new[] { 4, 8 }, numClasses: 4);
        using var teacher = Teacher.FromModule(teacherNet, captureFeatures: Map);
        using var student = Student.FromModule(studentNet, captureFeatures: Map);
        using var paraphraser = new FactorAutoencoder(6, 3);
        using var translator = new FactorCoder(8, 3);
        var recipe = Recipes.FactorTransfer(Map, paraphraser, translator, paraphraserEpochs: 4, weight: 50);
        var teacherBefore = Snapshot(teacherNet);
        var studentBefore = Snapshot(studentNet);
        var translatorBefore = Snapshot(translator);
        var paraphraserBefore = Snapshot(paraphraser);
        var snapshot = new StageSnapshot(DistillationRecipe.SingleStage, paraphraser);
        var distiller = new Distiller(new IDistillationModel[] { teacher, student }, recipe, new DistillerOptions { Epochs = 2, Seed = 3, Optimizer = new OptimizerOptions { LearningRate = 0.1 } });
        distiller.Callbacks.Add(snapshot);
        var result = distiller.Fit(new DataLoader(data, 16, seed: 4));

        var reconstruction = result.History.Where(r => r.Stage == "paraphraser").Select(r => r.Loss).ToArray();
        reconstruction.Should().HaveCount(4);
        reconstruction[^1].Should().BeLessThan(reconstruction[0], "stage 1 trains the paraphraser");
        var distill = result.History.Where(r => r.Stage == DistillationRecipe.SingleStage).ToArray();
        distill.Should().HaveCount(2);
        distill[^1].LossParts.Should().ContainKeys("ce", "ft");
        distill.Should().OnlyContain(r => double.IsFinite(r.Loss));
        Snapshot(teacherNet).Should().Equal(teacherBefore, "the teacher is frozen in both stages");
        snapshot.Captured.Should().NotBeNull().And.NotEqual(paraphraserBefore, "the first stage trains the paraphraser");
        Snapshot(paraphraser).Should().Equal(snapshot.Captured, "stage 2 neither optimises the paraphraser nor updates its BN statistics");
        Snapshot(studentNet).Should().NotEqual(studentBefore);
        Snapshot(translator).Should().NotEqual(translatorBefore, "the translator trains with the student");
    }

    [Fact]
    public void Cc_trains_the_student_and_both_heads_and_leaves_the_teacher_alone()
    {
        using var data = SyntheticData.Images(32, classes: 4, seed: 5);
        random.manual_seed(6);
        using var teacherNet = new SmallCnn(new[] { 8, 6 }, numClasses: 4);
        using var studentNet = new SmallCnn(new[] { 4, 8 }, numClasses: 4);
        using var teacher = Teacher.FromModule(teacherNet, captureFeatures: Flat);
        using var student = Student.FromModule(studentNet, captureFeatures: Flat);
        using var studentHead = new CorrelationEmbedding(8 * 7 * 7, 16);
        using var teacherHead = new CorrelationEmbedding(6 * 7 * 7, 16);
        var loss = Loss.CrossEntropy() + 10 * Loss.CorrelationCongruence(Flat, studentHead, teacherHead);
        var before = new[] { Snapshot(teacherNet), Snapshot(studentNet), Snapshot(studentHead), Snapshot(teacherHead) };
        var result = new Distiller(new IDistillationModel[] { teacher, student }, loss, new DistillerOptions { Epochs = 2, Seed = 7 }).Fit(new DataLoader(data, 16, seed: 8));
        result.History[^1].LossParts.Should().ContainKeys("ce", "cc");
        result.History.Should().OnlyContain(r => double.IsFinite(r.Loss));
        Snapshot(teacherNet).Should().Equal(before[0], "the teacher is frozen");
        Snapshot(studentNet).Should().NotEqual(before[1]);
        Snapshot(studentHead).Should().NotEqual(before[2], "the student's head trains");
        Snapshot(teacherHead).Should().NotEqual(before[3], "the teacher's head trains too (RepDistiller)");
    }

    private static double[] Snapshot(nn.Module module) =>
        module.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal)
            .Where(p => p.Value.is_floating_point())
            .SelectMany(p => p.Value.detach().cpu().to_type(ScalarType.Float64).reshape(-1).data<double>().ToArray())
            .ToArray();

    private sealed class StageSnapshot(string stage, nn.Module module) : IDistillationCallback
    {
        public double[]? Captured { get; private set; }

        public void OnStageStart(DistillationStage started)
        {
            if (started.Name == stage)
            {
                Captured = Snapshot(module);
            }
        }
    }
}
