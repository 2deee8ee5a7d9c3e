using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

public class AttentionTransferLossTests
{
    private static DistillationTermFixtureFile F => DistillationTermFixtures.Data;

    public static IEnumerable<object[]> Exponents() => DistillationTermFixtures.Data.At.Select(a => new object[] { a.P });

    [Theory]
    [MemberData(nameof(Exponents))]
    public void Two_stages_with_pooling_match_mdistiller_in_pytorch(double p)
    {
        using var scope = NewDisposeScope();
        var r = F.At.Single(a => a.P == p);
        var loss = Loss.AttentionTransfer(new FeaturePair[] { new("s1", "t1"), new("s2", "t2") }, p);
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(
            s => (result = loss.Compute(Context(s[0], s[1]))).Total, F.Features.Student1.ToTensor(), F.Features.Student2.ToTensor());
        value.ShouldBeClose(r.Value, 1e-10, $"AT(p = {p})");
        grads[0].ShouldMatch(r.Grad1, 1e-10, "AT gradient, stage 1 (student map pooled 8x8 -> 4x4)");
        grads[1].ShouldMatch(r.Grad2, 1e-10, "AT gradient, stage 2 (teacher map pooled 6x6 -> 4x4)");
        Scalar(result!.Parts["at.stage1"]).ShouldBeClose(r.Stages[0], 1e-10, "stage 1");
        Scalar(result.Parts["at.stage2"]).ShouldBeClose(r.Stages[1], 1e-10, "stage 2");
        Scalar(AttentionTransferLoss.StageValue(F.Features.Student1.ToTensor(), F.Features.Teacher1.ToTensor(), p)).ShouldBeClose(r.Stages[0], 1e-10, "StageValue");
    }

    [Fact]
    public void Equal_sizes_agree_with_the_existing_attention_transfer_helper()
    {
        using var scope = NewDisposeScope();
        var s = F.Features.Student2.ToTensor();
        var t = F.Features.Teacher1.ToTensor();
        Scalar(AttentionTransferLoss.StageValue(s, t)).ShouldBeClose(Scalar(AttentionTransfer.Value(s, t)), 1e-14, "p = 2 without pooling");
    }

    [Fact]
    public void A_single_stage_reports_only_its_total()
    {
        using var scope = NewDisposeScope();
        var result = Loss.AttentionTransfer(new FeaturePair[] { new("s1", "t1") }).Compute(Context(F.Features.Student1.ToTensor(), F.Features.Student2.ToTensor()));
        result.Parts.Keys.Should().Equal("at");
    }

    [Fact]
    public void Requirements_declare_every_stage_feature()
    {
        var loss = Loss.AttentionTransfer(new FeaturePair[] { "layer1", new("layer2", "block2") });
        loss.Requirements.Features.Select(f => f.ToString()).Should().BeEquivalentTo(
            "feature 'layer1' of 'student'", "feature 'layer1' of 'teacher'", "feature 'layer2' of 'student'", "feature 'block2' of 'teacher'");
        loss.Requirements.LogitsOf.Should().BeEmpty();
    }

    [Fact]
    public void Bad_configuration_is_rejected_naming_the_argument()
    {
        ((Action)(() => Loss.AttentionTransfer(Array.Empty<FeaturePair>()))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "features");
        ((Action)(() => Loss.AttentionTransfer(new FeaturePair[] { "a" }, p: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "p");
        ((Action)(() => new FeaturePair("", "t"))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "student");
    }

    [Fact]
    public void Feature_vectors_instead_of_maps_are_rejected_naming_the_feature()
    {
        using var scope = NewDisposeScope();
        var act = () => AttentionTransferLoss.StageValue(zeros(4, 8), zeros(4, 3, 2, 2));
        act.Should().Throw<ArgumentException>().WithMessage("student features must have shape [batch, channels, H, W]; got [4, 8]*");
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

/// <summary>The loss contract for two-stage AT (p = 2) on the PyTorch fixture.</summary>
public sealed class AttentionTransferLossContractTests : LossContractTests
{
    private static TermFeatures Features => DistillationTermFixtures.Data.Features;

    protected override IDistillationLoss CreateLoss() => Loss.AttentionTransfer(new FeaturePair[] { new("s1", "t1"), new("s2", "t2") });

    protected override LossContractCase CreateCase(Device device) => DistillationTermFixtures.FeatureCase(
        device, [("s1", Features.Student1), ("s2", Features.Student2)], [("t1", Features.Teacher1), ("t2", Features.Teacher2)],
        DistillationTermFixtures.Data.At.Single(a => a.P == 2.0).Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s1", "t1"))
        .Append(new("a rank-2 student feature", c => DistillationTermFixtures.WithFeature(c, "student", "s2", zeros(4, 5, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a rank-3 teacher feature", c => DistillationTermFixtures.WithFeature(c, "teacher", "t2", zeros(4, 7, 6, ScalarType.Float64)), typeof(ArgumentException)));
}
