using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class NeuronSelectivityTransferLossTests
{
    private static DistillationTermFixtureFile F => DistillationTermFixtures.Data;

    [Fact]
    public void Two_stages_with_pooling_match_the_reference_formula_in_pytorch()
    {
        using var scope = NewDisposeScope();
        var r = F.Nst;
        var loss = Loss.NeuronSelectivityTransfer(new FeaturePair[] { new("s1", "t1"), new("s2", "t2") });
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(
            s => (result = loss.Compute(Context(s[0], s[1]))).Total, F.Features.Student1.ToTensor(), F.Features.Student2.ToTensor());
        value.ShouldBeClose(r.Value, 1e-10, "NST");
        grads[0].ShouldMatch(r.Grad1, 1e-10, "NST gradient, stage 1");
        grads[1].ShouldMatch(r.Grad2, 1e-10, "NST gradient, stage 2");
        Scalar(result!.Parts["nst.stage1"]).ShouldBeClose(r.Stages[0], 1e-10, "stage 1");
        Scalar(result.Parts["nst.stage2"]).ShouldBeClose(r.Stages[1], 1e-10, "stage 2");
    }

    [Fact]
    public void Identical_maps_give_zero_and_the_mmd_is_non_negative()
    {
        using var scope = NewDisposeScope();
        var map = F.Features.Teacher2.ToTensor();
        Scalar(NeuronSelectivityTransferLoss.StageValue(map, map)).Should().BeApproximately(0, 1e-12);
        Scalar(NeuronSelectivityTransferLoss.StageValue(map * 5, map)).Should().BeApproximately(0, 1e-12, "each channel pattern is normalised");
        Scalar(NeuronSelectivityTransferLoss.StageValue(F.Features.Student2.ToTensor(), map)).Should().BeGreaterThan(0);
    }

    [Fact]
    public void Feature_vectors_instead_of_maps_are_rejected_naming_the_feature()
    {
        using var scope = NewDisposeScope();
        var act = () => NeuronSelectivityTransferLoss.StageValue(zeros(4, 3, 2, 2), zeros(4, 8));
        act.Should().Throw<ArgumentException>().WithMessage("teacher features must have shape [batch, channels, H, W]; got [4, 8]*");
    }

    private static DistillationContext Context(Tensor student1, Tensor student2) =>
        LossTestHelpers.Context(
            new Dictionary<string, ModelOutput>
            {
                ["student"] = new(null, new Dictionary<string, Tensor> { ["s1"] = student1, ["s2"] = student2 }),
                ["teacher"] = new(null, new Dictionary<string, Tensor> { ["t1"] = F.Features.Teacher1.ToTensor(), ["t2"] = F.Features.Teacher2.ToTensor() }),
            },
            null,
            student1.shape[0]);
}

/// <summary>The loss contract for two-stage NST on the PyTorch fixture.</summary>
public sealed class NeuronSelectivityTransferLossContractTests : LossContractTests
{
    private static TermFeatures Features => DistillationTermFixtures.Data.Features;

    protected override IDistillationLoss CreateLoss() => Loss.NeuronSelectivityTransfer(new FeaturePair[] { new("s1", "t1"), new("s2", "t2") });

    protected override LossContractCase CreateCase(Device device) => DistillationTermFixtures.FeatureCase(
        device, [("s1", Features.Student1), ("s2", Features.Student2)], [("t1", Features.Teacher1), ("t2", Features.Teacher2)], DistillationTermFixtures.Data.Nst.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s2", "t2"))
        .Append(new("a rank-2 student feature", c => DistillationTermFixtures.WithFeature(c, "student", "s1", zeros(4, 3, ScalarType.Float64)), typeof(ArgumentException)));
}
