using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Data;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>Graph distillation on clip batches through the engine (serial: seeds the global generator and counts live tensors).</summary>
[Collection(SerialCollection.Name)]
public class GraphDistillationEngineTests
{
    private static DataPipeline Clips(int count, int seed) =>
        new(new MovingFashionMnist(VideoTestData.Items(count, size: 12), frames: 4, seed: seed, canvasSize: 24),
            new DataPipelineOptions { BatchSize = 8, Seed = seed, Workers = 0, Transforms = { new PerClip(new RandomHorizontalFlip()) } });

    private static double[] Snapshot(nn.Module module) =>
        module.parameters().SelectMany(p => p.detach().cpu().to_type(ScalarType.Float64).data<double>().ToArray()).ToArray();

    [Fact]
    public void Frozen_teachers_a_trained_student_and_graph_modules_and_flat_live_tensors_over_clip_steps()
    {
        random.manual_seed(5);
        using var net0 = new FrameCnn(new[] { 4, 8 }, numClasses: 4);
        using var net1 = new VideoCnn3d(new[] { 4, 6 }, numClasses: 4);
        using var studentNet = new FrameCnn(new[] { 3, 5 }, numClasses: 4);
        using var t0 = Teacher.FromModule(net0, "t0");
        using var t1 = Teacher.FromModule(net1, "t1");
        using var student = Student.FromModule(studentNet);
        var names = new[] { "t0", "t1" };
        var logits = Loss.LogitsGraph(names);
        var representation = new RepresentationGraphLoss(names, new RepresentationGraph(new[] { 8, 6 }, 5, pooledDimension: 32), new[] { "embedding" }, "embedding");
        var recipe = Recipes.GraphDistillation(logits, representation, 1.0, 1.0);
        var teachersBefore = Snapshot(net0).Concat(Snapshot(net1)).ToArray();
        var studentBefore = Snapshot(studentNet);
        var adaptersBefore = Snapshot(representation.Graph);
        var options = new DistillerOptions { Epochs = 1, Seed = 6, Optimizer = new OptimizerOptions { LearningRate = 0.05, Momentum = 0.9 } };

        using (var warmUp = new Distiller(new IDistillationModel[] { t0, t1, student }, recipe, options))
        {
            warmUp.Fit(Clips(32, 1));
            Snapshot(representation.Graph).Should().NotEqual(adaptersBefore, "the engine trains the adaptation layers");
        }

        var longer = new DistillerOptions { Epochs = 6, Seed = 6, Optimizer = new OptimizerOptions { LearningRate = 0.05, Momentum = 0.9 } };
        using var distiller = new Distiller(new IDistillationModel[] { t0, t1, student }, Recipes.GraphDistillation(Loss.LogitsGraph(names), new RepresentationGraphLoss(names, new RepresentationGraph(new[] { 8, 6 }, 5, pooledDimension: 32), new[] { "embedding" }, "embedding")), longer);
        // Finalise earlier tests' (and the warm-up's) unreferenced tensors first: finalisers running during the measured epochs
        // would lower the count and fail the comparison without any leak.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var counts = new LiveTensorCounts();
        distiller.Callbacks.Add(counts);
        var history = distiller.Fit(Clips(32, 1)).History;

        history.Sum(h => h.Steps).Should().Be(24);
        history.Should().OnlyContain(r => r.LossParts.ContainsKey("ce") && r.LossParts.ContainsKey("logits-graph") && r.LossParts.ContainsKey("representation-graph.weight-t0-t1"));
        counts.AtEpochEnd.Skip(1).Should().AllBeEquivalentTo(counts.AtEpochEnd[1], "epochs 2-6 (4 clip steps each) end with the same live tensors: no batch or step temporary outlives its step");
        Snapshot(net0).Concat(Snapshot(net1)).Should().Equal(teachersBefore, "the teachers are frozen");
        Snapshot(studentNet).Should().NotEqual(studentBefore);
    }

    private sealed class LiveTensorCounts : IDistillationCallback
    {
        public List<long> AtEpochEnd { get; } = new();

        public void OnEpochEnd(EpochRecord record, TrainingControl control) => AtEpochEnd.Add(Tensor.TotalCount);
    }
}
