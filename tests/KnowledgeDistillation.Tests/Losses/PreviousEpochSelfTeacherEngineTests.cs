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

[Collection(SerialCollection.Name)]
public class PreviousEpochSelfTeacherEngineTests
{
    [Fact]
    public void In_the_engine_the_store_holds_every_sample_after_one_epoch_and_training_works()
    {
        using var data = SyntheticData.Blobs(64, classes: 3, seed: 3);
        random.manual_seed(4);
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var student = Student.FromModule(net);
        using var source = new PreviousEpochSelfTeacher(data.Count);
        var distiller = new Distiller(new[] { student }, Recipes.DrKd(4, 0.9, source), new DistillerOptions { Epochs = 3, Seed = 1 });
        var result = distiller.Fit(new DataLoader(data, 16, seed: 1), new DataLoader(data, 64, shuffle: false));
        source.Store.FilledCount.Should().Be(64);
        result.History.Should().HaveCount(3);
        result.History[^1].EvalMetrics["student"]["accuracy"].Should().BeGreaterThan(0.9);
        result.History[^1].LossParts.Should().ContainKeys("ce", "drkd", "drkd.rectified");

        // The stored logits are the student's last-epoch training logits: same arg-max as the trained model on most samples.
        using var noGrad = no_grad();
        net.eval();
        var stored = source.Store.Read(arange(64, ScalarType.Int64), CPU)[0];
        stored.argmax(1).eq(net.call(data.Inputs).argmax(1)).to(ScalarType.Float32).mean().item<float>().Should().BeGreaterThan(0.9f);
    }
}
