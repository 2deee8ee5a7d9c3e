using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class SimilarityPreservingLossTests
{
    private static DistillationTermFixtureFile F => DistillationTermFixtures.Data;

    [Fact]
    public void Embeddings_and_maps_of_different_widths_match_the_reference_formula_in_pytorch()
    {
        using var scope = NewDisposeScope();
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(
            s => SimilarityPreservingLoss.StageValue(s[0], F.Embeddings.Teacher.ToTensor()), F.Embeddings.Student.ToTensor());
        value.ShouldBeClose(F.Sp.Value, 1e-10, "SP on embeddings [6, 5] vs [6, 9]");
        grads[0].ShouldMatch(F.Sp.Grad, 1e-10, "SP gradient on embeddings");

        var loss = Loss.SimilarityPreserving(new FeaturePair[] { new("s", "t") });
        var (mapValue, mapGrads) = DistillationTermFixtures.ValueAndGrads(
            s => loss.Compute(Pair(s[0], F.Features.Teacher1.ToTensor())).Total, F.Features.Student1.ToTensor());
        mapValue.ShouldBeClose(F.Sp.MapValue, 1e-10, "SP on maps [4, 3, 8, 8] vs [4, 6, 4, 4]");
        mapGrads[0].ShouldMatch(F.Sp.MapGrad, 1e-10, "SP gradient on maps");
    }

    [Fact]
    public void A_student_whose_samples_are_rescaled_keeps_the_teachers_similarities()
    {
        // Row normalisation of the Gram matrix: scaling all features by one factor leaves G unchanged.
        using var scope = NewDisposeScope();
        var t = F.Embeddings.Teacher.ToTensor();
        Scalar(SimilarityPreservingLoss.StageValue(t * 3, t)).Should().BeApproximately(0, 1e-14);
        Scalar(SimilarityPreservingLoss.StageValue(F.Embeddings.Student.ToTensor(), t)).Should().BeGreaterThan(0.01);
    }

    [Fact]
    public void Mismatched_batch_sizes_are_rejected_naming_both_shapes()
    {
        using var scope = NewDisposeScope();
        var act = () => SimilarityPreservingLoss.StageValue(zeros(4, 8), zeros(5, 8));
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "student features").WithMessage("*Batch sizes differ*[4, 8]*[5, 8]*");
    }

    internal static DistillationContext Pair(Tensor student, Tensor teacher) =>
        Context(
            new Dictionary<string, ModelOutput>
            {
                ["student"] = new(null, new Dictionary<string, Tensor> { ["s"] = student }),
                ["teacher"] = new(null, new Dictionary<string, Tensor> { ["t"] = teacher }),
            },
            null,
            student.shape[0]);
}

/// <summary>The loss contract for SP on the fixture's embeddings.</summary>
public sealed class SimilarityPreservingLossContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss() => Loss.SimilarityPreserving(new FeaturePair[] { new("s", "t") });

    protected override LossContractCase CreateCase(Device device) => DistillationTermFixtures.FeatureCase(
        device, [("s", DistillationTermFixtures.Data.Embeddings.Student)], [("t", DistillationTermFixtures.Data.Embeddings.Teacher)], DistillationTermFixtures.Data.Sp.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(DistillationTermFixtures.FeatureBadInputs("s", "t"));
}
