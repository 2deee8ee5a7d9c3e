using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Metrics;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Data;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>The clip-level contrastive pretext task through the engine (serial: seeds the global generator and counts live tensors).</summary>
[Collection(SerialCollection.Name)]
public class ClipContrastivePretextEngineTests
{
    private static DataPipeline Pairs(int count, int seed) =>
        new(new MovingFashionMnist(VideoTestData.Items(count, size: 12), frames: 5, seed: seed, canvasSize: 24),
            new DataPipelineOptions
            {
                BatchSize = 8,
                Seed = seed,
                Workers = 0,
                Transforms = { new ClipPairs(new Compose(TemporalSampling.RandomOffset(3), new PerClip(new RandomHorizontalFlip()))) },
            });

    [Fact]
    public void Pretext_training_lowers_the_loss_keeps_live_tensors_flat_and_transfers_the_backbone()
    {
        // Finalise what earlier tests left undisposed, so their garbage is not collected (and uncounted) during these epochs.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        random.manual_seed(3);
        using var pairs = new ClipPairEncoder(new VideoCnn3d(new[] { 4, 8 }, numClasses: 16));
        using var student = Student.FromModule(pairs);
        var options = new DistillerOptions { Epochs = 8, Seed = 4, Optimizer = new OptimizerOptions { LearningRate = 0.05, Momentum = 0.9 } };
        using var distiller = new Distiller(new IDistillationModel[] { student }, new ClipContrastiveLoss(temperature: 0.5), options);
        distiller.Metrics.Clear();
        distiller.Metrics.Add(() => new ClipPairRetrievalAccuracy());
        var counts = new LiveTensorCounts();
        distiller.Callbacks.Add(counts);
        var history = distiller.Fit(Pairs(32, 1)).History;

        history.Sum(h => h.Steps).Should().Be(32);
        history.Should().OnlyContain(r => r.LossParts.ContainsKey("clip-contrastive"));
        history[^1].Loss.Should().BeLessThan(history[0].Loss, "the pretext task is learned");
        history[^1].TrainMetrics["student"]["pair_retrieval_accuracy"].Should().BeGreaterThan(1.0 / 15, "above chance (1 / (2B - 1))");
        counts.AtEpochEnd.Skip(1).Should().AllBeEquivalentTo(counts.AtEpochEnd[1], "epochs 2-8 end with the same live tensors: no step temporary outlives its step");

        using var classifier = new VideoCnn3d(new[] { 4, 8 }, numClasses: 10);
        var copied = VideoPretext.TransferBackbone(pairs.Encoder, classifier);
        copied.Should().Contain("features.stem.conv.weight").And.NotContain(n => n.StartsWith("classifier", StringComparison.Ordinal));
        using var scope = NewDisposeScope();
        (classifier.state_dict()["features.stem.conv.weight"] - pairs.Encoder.state_dict()["features.stem.conv.weight"]).abs().max().item<float>().Should().Be(0f);
    }

    private sealed class LiveTensorCounts : IDistillationCallback
    {
        public List<long> AtEpochEnd { get; } = new();

        public void OnEpochEnd(EpochRecord record, TrainingControl control) => AtEpochEnd.Add(Tensor.TotalCount);
    }
}
