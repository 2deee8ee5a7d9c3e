using FluentAssertions;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

[Collection(SerialCollection.Name)]
public class FactorTransferLossTests
{
    private static FtReference R => FtCcFixtures.Data.Ft;

    public static IEnumerable<object[]> Cases() => R.Cases.Select((c, i) => new object[] { i });

    [Theory]
    [MemberData(nameof(Cases))]
    public void Value_and_gradients_of_the_student_map_and_translator_match_pytorch(int index)
    {
        using var scope = NewDisposeScope();
        var reference = R.Cases[index];
        var what = $"FT {reference.Form} p={reference.P}";
        var loss = FtCcFixtures.FtLoss(FtCcFixtures.FtForm(reference.Form), reference.P);
        var @case = FtCcFixtures.FtCase(CPU, reference.Value);
        var result = loss.Compute(@case.Context);
        result.Total.backward();
        Scalar(result.Total).ShouldBeClose(reference.Value, 1e-10, what);
        result.Parts.Keys.Should().Equal("ft");
        @case.Trainable[0].Leaf.grad!.ShouldMatch(reference.GradStudent, 1e-10, $"{what}: gradient w.r.t. the student map");
        var parameters = loss.Translator.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters.Keys.Should().BeEquivalentTo(reference.GradTranslator.Keys);
        foreach (var (name, grad) in reference.GradTranslator)
        {
            parameters[name].grad!.ShouldMatch(grad, 1e-10, $"{what}: gradient w.r.t. translator {name}");
        }

        loss.Paraphraser.parameters().Should().AllSatisfy(p => (p.grad is null || p.grad.abs().max().item<double>() == 0).Should().BeTrue("the paraphraser is frozen"));
    }

    [Fact]
    public void The_paraphraser_is_frozen_and_the_translator_trained()
    {
        using var scope = NewDisposeScope();
        var loss = FtCcFixtures.FtLoss();
        loss.TrainableModules.Should().Equal(loss.Translator);
        loss.FrozenModules.Should().Equal(loss.Paraphraser);
        loss.Requirements.Features.Should().HaveCount(2);
    }

    [Fact]
    public void The_reconstruction_mse_matches_pytorch_and_l1_stays_the_default()
    {
        using var scope = NewDisposeScope();
        var x = R.Reconstruction.Feature.ToTensor();
        var y = R.Reconstruction.Reconstruction.ToTensor();
        Scalar(FactorReconstructionLoss.Value(x, y, 2)).ShouldBeClose(R.Reconstruction.Mse, 1e-12, "MSE");
        Scalar(FactorReconstructionLoss.Value(x, y)).Should().BeApproximately(Scalar((x - y).abs().mean()), 1e-15);
        using var autoencoder = new FactorAutoencoder(3, 2);
        Loss.FactorReconstruction(autoencoder, "t").Norm.Should().Be(1);
        ((Action)(() => Loss.FactorReconstruction(autoencoder, "t", norm: 3))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "norm");
        ((Action)(() => FactorReconstructionLoss.Value(x, y, 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "norm");
    }

    [Fact]
    public void The_flattened_distance_is_scale_invariant_per_sample_and_zero_for_equal_factors()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(3);
        var x = randn(new long[] { 3, 2, 4, 4 }, ScalarType.Float64, generator: generator);
        var y = randn(new long[] { 3, 2, 2, 2 }, ScalarType.Float64, generator: generator);
        Scalar(FactorTransferLoss.Distance(x * 7.5, x)).Should().BeApproximately(0, 1e-15);
        Scalar(FactorTransferLoss.Distance(x * 3, y)).Should().BeApproximately(Scalar(FactorTransferLoss.Distance(x, y)), 1e-14, "the larger factor is pooled, then normalised");
        Scalar(FactorTransferLoss.Distance(x * 3, y, FactorTransferForm.SpatialAttention, 2))
            .Should().BeApproximately(Scalar(FactorTransferLoss.Distance(x, y, FactorTransferForm.SpatialAttention, 2)), 1e-14);
        Scalar(FactorTransfer.Distance(x, -x, 1)).Should().BeApproximately(Scalar(FactorTransfer.L1(x, -x)), 1e-15, "p = 1 is IE-KD's L1");
    }

    [Fact]
    public void Bad_construction_is_rejected()
    {
        using var paraphraser = new FactorAutoencoder(6, 3);
        using var translator = new FactorCoder(4, 2);
        using var good = new FactorCoder(4, 3);
        ((Action)(() => Loss.FactorTransfer("f", paraphraser, translator))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "translator").WithMessage("*2 channels*3*");
        ((Action)(() => Loss.FactorTransfer("f", paraphraser, good, p: 3))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "p");
        ((Action)(() => Loss.FactorTransfer("f", paraphraser, good, (FactorTransferForm)7))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "form");
        ((Action)(() => Recipes.FactorTransfer("f", paraphraser, good, paraphraserEpochs: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "paraphraserEpochs");
        ((Action)(() => Recipes.FactorTransfer("f", paraphraser, good, weight: -1))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "weight");
        ((Action)(() => FactorTransfer.SpatialFactor(zeros(2, 3, 4)))).Should().Throw<ArgumentException>().WithMessage("*[batch, channels, H, W]*");
    }

    [Fact]
    public void The_recipe_trains_the_paraphraser_on_the_teacher_then_distils_with_ce_and_ft()
    {
        using var paraphraser = new FactorAutoencoder(6, 3);
        using var translator = new FactorCoder(4, 3);
        var recipe = Recipes.FactorTransfer(new FeaturePair("s", "t"), paraphraser, translator, paraphraserEpochs: 30);
        recipe.Name.Should().Be("ft");
        recipe.Stages.Select(s => (s.Name, s.Epochs)).Should().Equal(("paraphraser", 30), (DistillationRecipe.SingleStage, (int?)null));
        recipe.Stages[0].Active.Should().Equal("teacher");
        recipe.Stages[0].Trainable.Should().BeEmpty();
        var reconstruct = recipe.Stages[0].Loss.Should().BeOfType<FactorReconstructionLoss>().Subject;
        reconstruct.Norm.Should().Be(2, "RepDistiller trains the paraphraser with nn.MSELoss");
        reconstruct.Feature.Should().Be("t");
        reconstruct.Autoencoder.Should().BeSameAs(paraphraser);
        recipe.Stages[1].Loss.TrainableModules.Should().Equal(translator);
        recipe.Stages[1].Loss.FrozenModules.Should().Equal(paraphraser);
    }
}

/// <summary>The loss contract for FT (paper form, p = 1) with the fixture's paraphraser and translator.</summary>
public sealed class FactorTransferLossContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss() => FtCcFixtures.FtLoss();

    protected override LossContractCase CreateCase(Device device) => FtCcFixtures.FtCase(device, FtCcFixtures.Data.Ft.Cases[0].Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s", "t"))
        .Append(new("a student map with other channels than the translator's (no connector)", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s", zeros(3, 5, 4, 4, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a teacher map with other channels than the paraphraser's", c =>
            DistillationTermFixtures.WithFeature(c, "teacher", "t", zeros(3, 4, 2, 2, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a rank-2 student feature", c => DistillationTermFixtures.WithFeature(c, "student", "s", zeros(3, 4, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a rank-3 teacher feature", c => DistillationTermFixtures.WithFeature(c, "teacher", "t", zeros(3, 6, 2, ScalarType.Float64)), typeof(ArgumentException)));
}
