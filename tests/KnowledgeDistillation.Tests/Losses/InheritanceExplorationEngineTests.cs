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
public class InheritanceExplorationEngineTests
{
    private const string Feature = "features.block2";

    [Fact]
    public void Ie_kd_two_stages_train_the_autoencoder_then_freeze_it_and_train_student_and_encoders()
    {
        using var data = SyntheticData.Images(48, classes: 4, seed: 1);
        random.manual_seed(2);
        using var teacherNet = new SmallCnn(new[] { 8, 6 }, numClasses: 4);
        using var studentNet = new SmallCnn(new[] { 4, 8 }, numClasses: 4);
        using var teacher = Teacher.FromModule(teacherNet, captureFeatures: Feature);
        using var student = Student.FromModule(studentNet, captureFeatures: Feature);
        using var autoencoder = new FactorAutoencoder(6, 4);
        var ie = new InheritanceExplorationLoss(autoencoder, ChannelSplit.Random(8, seed: 0), Feature, inheritanceWeight: 50, explorationWeight: 50);
        var stages = new[]
        {
            new DistillationStage("autoencoder", new FactorReconstructionLoss(autoencoder, Feature)) { Epochs = 4, Active = new[] { "teacher" }, Trainable = Array.Empty<string>() },
            new DistillationStage("distill", new CrossEntropyLoss() + ie) { Epochs = 2 },
        };
        var teacherBefore = Snapshot(teacherNet);
        var studentBefore = Snapshot(studentNet);
        var encodersBefore = Snapshot(ie.Encoders);
        var autoencoderBefore = Snapshot(autoencoder);
        var snapshot = new StageSnapshot("distill", autoencoder);
        var distiller = new Distiller(new IDistillationModel[] { teacher, student }, stages, new DistillerOptions { Seed = 3, Optimizer = new OptimizerOptions { LearningRate = 0.1 } });
        distiller.Callbacks.Add(snapshot);
        var result = distiller.Fit(new DataLoader(data, 16, seed: 4));

        var reconstruction = result.History.Where(r => r.Stage == "autoencoder").Select(r => r.Loss).ToArray();
        reconstruction.Should().HaveCount(4);
        reconstruction[^1].Should().BeLessThan(reconstruction[0], "stage 1 trains the autoencoder");
        var distill = result.History.Where(r => r.Stage == "distill").ToArray();
        distill.Should().HaveCount(2);
        distill[^1].LossParts.Should().ContainKeys("ce", "ie", "ie.inherit", "ie.explore").And.NotContainKey("ie.reconstruct");
        distill.Should().OnlyContain(r => double.IsFinite(r.Loss));

        Snapshot(teacherNet).Should().Equal(teacherBefore, "the teacher is frozen in both stages");
        snapshot.Captured.Should().NotBeNull();
        snapshot.Captured.Should().NotEqual(autoencoderBefore, "the first stage trains the autoencoder");
        Snapshot(autoencoder).Should().Equal(snapshot.Captured, "stage 2 neither optimises the autoencoder nor updates its BN statistics");
        Snapshot(studentNet).Should().NotEqual(studentBefore);
        Snapshot(ie.Encoders).Should().NotEqual(encodersBefore, "Enc_I and Enc_E are trained with the student");
        ie.Split.Inheritance.Should().Equal(ChannelSplit.Random(8, 0).Inheritance, "the split never changes");
    }

    [Fact]
    public void Ie_dml_trains_both_peers_and_both_autoencoders_online()
    {
        using var data = SyntheticData.Images(32, classes: 4, seed: 5);
        random.manual_seed(6);
        using var netA = new SmallCnn(new[] { 4, 8 }, numClasses: 4);
        using var netB = new SmallCnn(new[] { 4, 8 }, numClasses: 4);
        using var a = Student.FromModule(netA, "a", Feature);
        using var b = Student.FromModule(netB, "b", Feature);
        using var aeA = new FactorAutoencoder(8, 4);
        using var aeB = new FactorAutoencoder(8, 4);
        var loss = Loss.IeDml(aeA, aeB, ChannelSplit.Natural(8), ChannelSplit.Random(8, 1), Feature, "a", "b", inheritanceWeight: 10, explorationWeight: 10);
        loss.TrainableModules.Should().HaveCount(4, "two encoder pairs and two autoencoders");
        loss.TrainableModules.Should().Contain(new nn.Module[] { aeA, aeB });
        var before = new[] { Snapshot(netA), Snapshot(netB), Snapshot(aeA), Snapshot(aeB) };
        var result = new Distiller(new IDistillationModel[] { a, b }, loss, new DistillerOptions { Epochs = 2, Seed = 7 }).Fit(new DataLoader(data, 16, seed: 8));
        result.History[^1].LossParts.Should().ContainKeys(
            "ce-a", "ce-b", "kl-a", "kl-b", "ie-a", "ie-a.inherit", "ie-a.explore", "ie-a.reconstruct", "ie-b", "ie-b.reconstruct");
        result.History.Should().OnlyContain(r => double.IsFinite(r.Loss));
        var after = new[] { Snapshot(netA), Snapshot(netB), Snapshot(aeA), Snapshot(aeB) };
        for (var i = 0; i < 4; i++)
        {
            after[i].Should().NotEqual(before[i], "module {0} is trained", i);
        }
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
