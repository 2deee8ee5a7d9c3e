using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class ProbabilisticKnowledgeTransferLossTests
{
    private static DistillationTermFixtureFile F => DistillationTermFixtures.Data;

    [Fact]
    public void Value_and_gradient_match_the_reference_formula_in_pytorch()
    {
        using var scope = NewDisposeScope();
        var loss = Loss.ProbabilisticKnowledgeTransfer(new FeaturePair[] { new("s", "t") });
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(
            s => loss.Compute(SimilarityPreservingLossTests.Pair(s[0], F.Embeddings.Teacher.ToTensor())).Total, F.Embeddings.Student.ToTensor());
        value.ShouldBeClose(F.Pkt.Value, 1e-10, "PKT on embeddings [6, 5] vs [6, 9]");
        grads[0].ShouldMatch(F.Pkt.Grad, 1e-10, "PKT gradient");
        Scalar(ProbabilisticKnowledgeTransferLoss.StageValue(F.Embeddings.Student.ToTensor(), F.Embeddings.Teacher.ToTensor())).ShouldBeClose(F.Pkt.Value, 1e-10, "StageValue");
    }

    [Fact]
    public void The_teachers_own_geometry_costs_nothing_and_any_other_costs_more()
    {
        using var scope = NewDisposeScope();
        var t = F.Embeddings.Teacher.ToTensor();
        Scalar(ProbabilisticKnowledgeTransferLoss.StageValue(t * 2.5, t)).Should().BeApproximately(0, 1e-12, "cosine kernels ignore the scale");
        Scalar(ProbabilisticKnowledgeTransferLoss.StageValue(F.Embeddings.Student.ToTensor(), t)).Should().BeGreaterThan(1e-4);
    }

    [Fact]
    public void Non_finite_features_give_a_non_finite_loss()
    {
        // The references zero NaN entries of the normalised features; here the engine's non-finite policy must see them.
        using var scope = NewDisposeScope();
        var s = F.Embeddings.Student.ToTensor();
        s[0, 0] = tensor(double.NaN);
        double.IsNaN(Scalar(ProbabilisticKnowledgeTransferLoss.StageValue(s, F.Embeddings.Teacher.ToTensor()))).Should().BeTrue();
    }
}

/// <summary>The loss contract for PKT on the fixture's embeddings.</summary>
public sealed class ProbabilisticKnowledgeTransferLossContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss() => Loss.ProbabilisticKnowledgeTransfer(new FeaturePair[] { new("s", "t") });

    protected override LossContractCase CreateCase(Device device) => DistillationTermFixtures.FeatureCase(
        device, [("s", DistillationTermFixtures.Data.Embeddings.Student)], [("t", DistillationTermFixtures.Data.Embeddings.Teacher)], DistillationTermFixtures.Data.Pkt.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(DistillationTermFixtures.FeatureBadInputs("s", "t"));
}
