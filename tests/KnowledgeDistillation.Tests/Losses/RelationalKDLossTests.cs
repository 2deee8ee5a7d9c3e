using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class RelationalKDLossTests
{
    private static DistillationTermFixtureFile F => DistillationTermFixtures.Data;

    [Fact]
    public void Value_parts_and_gradient_match_repdistiller_in_pytorch()
    {
        using var scope = NewDisposeScope();
        var r = F.Rkd;
        var loss = Loss.RelationalKD(new FeaturePair[] { new("s", "t") }, r.DistanceWeight, r.AngleWeight);
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(
            s => (result = loss.Compute(SimilarityPreservingLossTests.Pair(s[0], F.Embeddings.Teacher.ToTensor()))).Total, F.Embeddings.Student.ToTensor());
        value.ShouldBeClose(r.Value, 1e-10, "RKD");
        grads[0].ShouldMatch(r.Grad, 1e-10, "RKD gradient");
        Scalar(result!.Parts["rkd.distance"]).ShouldBeClose(r.Distance, 1e-10, "distance term");
        Scalar(result.Parts["rkd.angle"]).ShouldBeClose(r.Angle, 1e-10, "angle term");
        var (distance, angle) = RelationalKDLoss.StageTerms(F.Embeddings.Student.ToTensor(), F.Embeddings.Teacher.ToTensor());
        (Scalar(distance), Scalar(angle)).Should().Be((Scalar(result.Parts["rkd.distance"]), Scalar(result.Parts["rkd.angle"])));
    }

    [Fact]
    public void A_rotated_scaled_and_translated_teacher_embedding_costs_nothing()
    {
        // Distances normalised by their mean and angles are invariant to similarity transforms.
        using var scope = NewDisposeScope();
        var t = F.Embeddings.Teacher.ToTensor();
        var moved = (t.flip(1) * -4.0) + 1.5;   // a reflection (reversed axes, negated), a scale and a shift
        var (distance, angle) = RelationalKDLoss.StageTerms(moved, t);
        Scalar(distance).Should().BeApproximately(0, 1e-12);
        Scalar(angle).Should().BeApproximately(0, 1e-12);
    }

    [Fact]
    public void A_batch_of_one_and_bad_weights_are_rejected()
    {
        using var scope = NewDisposeScope();
        ((Action)(() => RelationalKDLoss.StageTerms(zeros(1, 4), zeros(1, 3)))).Should().Throw<ArgumentException>().WithMessage("*at least two*[1, 4]*");
        ((Action)(() => Loss.RelationalKD(new FeaturePair[] { "f" }, distanceWeight: -1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "distanceWeight");
        ((Action)(() => Loss.RelationalKD(new FeaturePair[] { "f" }, angleWeight: double.NaN))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "angleWeight");
    }
}

/// <summary>The loss contract for RKD (25 / 50) on the fixture's embeddings.</summary>
public sealed class RelationalKDLossContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss() => Loss.RelationalKD(new FeaturePair[] { new("s", "t") });

    protected override LossContractCase CreateCase(Device device) => DistillationTermFixtures.FeatureCase(
        device, [("s", DistillationTermFixtures.Data.Embeddings.Student)], [("t", DistillationTermFixtures.Data.Embeddings.Teacher)], DistillationTermFixtures.Data.Rkd.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(DistillationTermFixtures.FeatureBadInputs("s", "t"));
}
