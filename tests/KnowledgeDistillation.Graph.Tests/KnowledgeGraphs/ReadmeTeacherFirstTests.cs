using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Losses;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>
/// Issue 12, problem 7: the README's DualDE snippet distilled from an untrained teacher. Its step 1 (copied here, on a tiny
/// graph) trains the teacher first; the teacher it hands to DualDE must rank far better than the untrained one it used to.
/// </summary>
public sealed class ReadmeTeacherFirstTests
{
    [Fact]
    public void The_readme_snippet_trains_the_teacher_before_distilling_it()
    {
        var graph = KgTestData.Ring(12);
        var data = new TripleBatchSource(graph.Train, graph.EntityCount, batchSize: 8, negatives: 4, seed: 2);
        var adam = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 0.05, WeightDecay = 0 };
        random.manual_seed(3);
        using var teacherModel = new ComplEx(graph.EntityCount, graph.RelationCount, 8);
        var evaluator = LinkPredictionEvaluator.For(graph);
        var untrained = evaluator.Evaluate(teacherModel, graph.Train);

        // The README's step 1.
        using (var teacherAlone = KgeParticipant.Student(teacherModel, "teacher"))
        using (var teacherRun = new Distiller(new[] { teacherAlone }, Loss.SelfAdversarial("teacher"), new DistillerOptions { Epochs = 60, Optimizer = adam, Seed = 1 }))
        {
            teacherRun.Metrics.Clear();
            teacherRun.Fit(data);
        }

        var trained = evaluator.Evaluate(teacherModel, graph.Train);
        trained.Mrr.Should().BeGreaterThan(untrained.Mrr + 0.3, $"a trained teacher ranks its own training triples well (untrained MRR {untrained.Mrr:F3})");
    }
}
