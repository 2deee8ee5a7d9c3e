using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

[Collection(SerialCollection.Name)]
public class HintLossTests
{
    private static DistillationTermFixtureFile F => DistillationTermFixtures.Data;

    /// <summary>The fixture's regressor: 3 → 6 channels, 8x8 → 4x4 (stride-2 3x3 convolution), float64, fixture weights.</summary>
    internal static HintRegressor FixtureRegressor()
    {
        var regressor = new HintRegressor(3, 6, (8, 8), (4, 4));
        regressor.to(ScalarType.Float64);
        var parameters = regressor.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        parameters.Keys.Should().BeEquivalentTo(F.Hint.Weights.Keys, "the C# module uses the reference module's parameter names");
        using var noGrad = no_grad();
        foreach (var (name, value) in F.Hint.Weights)
        {
            parameters[name].copy_(value.ToTensor());
        }

        return regressor;
    }

    [Fact]
    public void Value_and_gradients_of_input_and_regressor_match_pytorch()
    {
        using var scope = NewDisposeScope();
        using var regressor = FixtureRegressor();
        var loss = Loss.Hint(new FeaturePair("s", "t"), regressor);
        loss.TrainableModules.Should().Equal(regressor);
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(
            s => loss.Compute(SimilarityPreservingLossTests.Pair(s[0], F.Features.Teacher1.ToTensor())).Total, F.Features.Student1.ToTensor());
        value.ShouldBeClose(F.Hint.Value, 1e-10, "hint");
        grads[0].ShouldMatch(F.Hint.Grad, 1e-10, "hint gradient w.r.t. the student map");
        foreach (var (name, parameter) in regressor.named_parameters())
        {
            parameter.grad!.ShouldMatch(F.Hint.WeightGrads[name], 1e-10, $"hint gradient w.r.t. {name}");
        }
    }

    [Theory]
    [InlineData(16, 8, "Conv2d", 8)]
    [InlineData(4, 8, "ConvTranspose2d", 8)]
    [InlineData(8, 6, "Conv2d", 6)]
    [InlineData(8, 8, "Conv2d", 8)]
    public void The_regressor_follows_the_reference_rule_for_the_spatial_sizes(long studentSize, long teacherSize, string convolution, long outputSize)
    {
        using var scope = NewDisposeScope();
        using var regressor = HintRegressor.For(new long[] { 2, 3, studentSize, studentSize }, new long[] { 2, 5, teacherSize, teacherSize });
        regressor.named_children().Single(c => c.name == "conv").module.GetType().Name.Should().Be(convolution);
        regressor.call(randn(2, 3, studentSize, studentSize)).shape.Should().Equal(2, 5, outputSize, outputSize);
    }

    [Fact]
    public void A_student_map_smaller_than_the_teachers_but_not_half_is_refused()
    {
        var act = () => new HintRegressor(3, 5, (4, 4), (6, 6));
        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "studentSize").WithMessage("*4x4*6x6*");
        ((Action)(() => new HintRegressor(0, 5, (4, 4), (4, 4)))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "studentChannels");
    }

    [Fact]
    public void Mismatched_channel_counts_without_a_regressor_are_rejected_before_native_code()
    {
        using var scope = NewDisposeScope();
        var context = SimilarityPreservingLossTests.Pair(zeros(2, 3, 4, 4, ScalarType.Float64), zeros(2, 5, 4, 4, ScalarType.Float64));
        var act = () => Loss.Hint(new FeaturePair("s", "t")).Compute(context);
        act.Should().Throw<ArgumentException>().WithMessage("*[2, 3, 4, 4]*[2, 5, 4, 4]*without a regressor*HintRegressor*");
        var same = new HintLoss(new FeaturePair("s", "t")).Compute(SimilarityPreservingLossTests.Pair(ones(2, 3, 4, 4, ScalarType.Float64), zeros(2, 3, 4, 4, ScalarType.Float64)));
        Scalar(same.Total).Should().Be(1.0, "maps of one shape are compared directly");
    }

    [Fact]
    public void The_fitnets_recipe_trains_the_regressor_on_the_hint_then_distils()
    {
        const string guided = "features.block1";
        const string hintLayer = "features.block2";
        using var data = SyntheticData.Images(32, classes: 4, seed: 11);
        random.manual_seed(12);
        using var teacherNet = new SmallCnn(new[] { 8, 6 }, numClasses: 4);
        using var studentNet = new SmallCnn(new[] { 4, 8 }, numClasses: 4);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        using var regressor = new HintRegressor(4, 6, (14, 14), (7, 7));
        var recipe = Recipes.FitNets(new FeaturePair(guided, hintLayer), regressor, hintEpochs: 2);
        recipe.Stages.Select(s => s.Name).Should().Equal("hint", "distill");
        recipe.Stages[0].Loss.TrainableModules.Should().Equal(regressor);
        recipe.Stages[1].Loss.Requirements.LogitsOf.Should().BeEquivalentTo("student", "teacher");

        var teacherBefore = Snapshot(teacherNet);
        var regressorBefore = Snapshot(regressor);
        using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, recipe, new DistillerOptions { Epochs = 1, Seed = 13, Optimizer = new OptimizerOptions { LearningRate = 0.05 } });
        var result = distiller.Fit(new DataLoader(data, 16, seed: 14));

        var hint = result.History.Where(r => r.Stage == "hint").ToArray();
        hint.Should().HaveCount(2);
        hint.Should().OnlyContain(r => double.IsFinite(r.Loss) && r.LossParts.ContainsKey("hint"));
        result.History.Where(r => r.Stage == "distill").Should().ContainSingle().Which.LossParts.Should().ContainKeys("ce", "kd");
        Snapshot(regressor).Should().NotEqual(regressorBefore, "the hint stage optimises the regressor");
        Snapshot(teacherNet).Should().Equal(teacherBefore, "the teacher is frozen in both stages");
    }

    [Fact]
    public void Bad_hint_epochs_are_rejected()
    {
        ((Action)(() => Recipes.FitNets("f", null, hintEpochs: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "hintEpochs");
        ((Action)(() => Recipes.FitNets("f", null, temperature: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "temperature");
    }

    private static double[] Snapshot(nn.Module module) =>
        module.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal)
            .Where(p => p.Value.is_floating_point())
            .SelectMany(p => p.Value.detach().cpu().to_type(ScalarType.Float64).reshape(-1).data<double>().ToArray())
            .ToArray();
}

/// <summary>The loss contract for the hint with the fixture's regressor (its parameters are checked by finite differences too).</summary>
public sealed class HintLossContractTests : LossContractTests
{
    private static TermFeatures Features => DistillationTermFixtures.Data.Features;

    protected override IDistillationLoss CreateLoss() => Loss.Hint(new FeaturePair("s1", "t1"), HintLossTests.FixtureRegressor());

    protected override LossContractCase CreateCase(Device device) =>
        DistillationTermFixtures.FeatureCase(device, [("s1", Features.Student1)], [("t1", Features.Teacher1)], DistillationTermFixtures.Data.Hint.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s1", "t1"))
        .Append(new("a student map with other channels than the regressor's", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s1", zeros(4, 5, 8, 8, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a student map of another size than the regressor's", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s1", zeros(4, 3, 6, 6, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a teacher map with other channels than the regressor's output", c =>
            DistillationTermFixtures.WithFeature(c, "teacher", "t1", zeros(4, 7, 4, 4, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a rank-2 student feature", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s1", zeros(4, 3, ScalarType.Float64)), typeof(ArgumentException)));
}
