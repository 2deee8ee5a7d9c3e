using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

[Collection(SerialCollection.Name)]
public class VariationalInformationLossTests
{
    internal static readonly FeaturePair[] Pairs = { new("s1", "t1"), new("s2", "t2") };

    private static VidReference R => ContrastiveTermFixtures.Data.Vid;

    /// <summary>The fixture's regressors (2 → 5 and 4 → 3 channels, float64, fixture weights incl. log_scale).</summary>
    internal static VidRegressor[] FixtureRegressors()
    {
        var regressors = new[] { new VidRegressor(2, 5), new VidRegressor(4, 3) };
        using var noGrad = no_grad();
        for (var i = 0; i < regressors.Length; i++)
        {
            regressors[i].to(ScalarType.Float64);
            var parameters = regressors[i].named_parameters().ToDictionary(p => p.name, p => p.parameter);
            parameters.Keys.Should().BeEquivalentTo(R.Weights[i].Keys, "the C# module uses the reference module's parameter names");
            foreach (var (name, value) in R.Weights[i])
            {
                parameters[name].copy_(value.ToTensor());
            }
        }

        return regressors;
    }

    [Fact]
    public void Value_stages_and_gradients_of_features_and_regressors_match_pytorch()
    {
        using var scope = NewDisposeScope();
        var regressors = FixtureRegressors();
        var loss = Loss.VariationalInformation(Pairs, regressors);
        loss.TrainableModules.Should().Equal(regressors);
        var teachers = R.Teachers.Select(t => t.ToTensor()).ToArray();
        LossResult? result = null;
        var (value, grads) = DistillationTermFixtures.ValueAndGrads(
            s => (result = loss.Compute(ReviewKDLossTests.Context(s, teachers))).Total, R.Students.Select(s => s.ToTensor()).ToArray());
        value.ShouldBeClose(R.Value, 1e-10, "vid");
        result!.Parts["vid.stage1"].item<double>().ShouldBeClose(R.Stages[0], 1e-10, "vid stage 1");
        result.Parts["vid.stage2"].item<double>().ShouldBeClose(R.Stages[1], 1e-10, "vid stage 2");
        for (var i = 0; i < 2; i++)
        {
            grads[i].ShouldMatch(R.Grads[i], 1e-10, $"vid gradient w.r.t. student map {i + 1}");
            foreach (var (name, parameter) in regressors[i].named_parameters())
            {
                parameter.grad!.ShouldMatch(R.WeightGrads[i][name], 1e-10, $"vid gradient w.r.t. regressor {i + 1} {name}");
            }
        }
    }

    [Fact]
    public void The_variance_starts_at_the_initial_variance()
    {
        using var scope = NewDisposeScope();
        using var regressor = new VidRegressor(3, 4, initialVariance: 5.0);
        regressor.Variance().to_type(ScalarType.Float64).data<double>().ToArray().Should().AllSatisfy(v => v.Should().BeApproximately(5.0, 1e-5));
        regressor.MidChannels.Should().Be(4, "the references use the teacher's channels as the hidden width");
    }

    [Fact]
    public void Bad_construction_is_rejected()
    {
        ((Action)(() => Loss.VariationalInformation(Pairs, new[] { new VidRegressor(2, 5) }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "regressors").WithMessage("*2 pairs, 1 regressors*");
        ((Action)(() => new VidRegressor(0, 5))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "studentChannels");
        ((Action)(() => new VidRegressor(2, 5, initialVariance: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "initialVariance");
        ((Action)(() => new VidRegressor(2, 5, epsilon: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "epsilon");
    }
}

/// <summary>The loss contract for VID with the fixture's regressors (their weights and variances are checked by finite differences too).</summary>
public sealed class VariationalInformationLossContractTests : LossContractTests
{
    private static VidReference R => ContrastiveTermFixtures.Data.Vid;

    protected override IDistillationLoss CreateLoss() => Loss.VariationalInformation(VariationalInformationLossTests.Pairs, VariationalInformationLossTests.FixtureRegressors());

    protected override LossContractCase CreateCase(Device device) =>
        DistillationTermFixtures.FeatureCase(
            device,
            R.Students.Select((s, i) => ($"s{i + 1}", s)).ToArray(),
            R.Teachers.Select((t, i) => ($"t{i + 1}", t)).ToArray(),
            R.Value);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("s1", "t1"))
        .Append(new("a student map with other channels than its regressor's", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s2", zeros(3, 5, 2, 2, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a teacher map with other channels than its regressor's", c =>
            DistillationTermFixtures.WithFeature(c, "teacher", "t1", zeros(3, 4, 4, 4, ScalarType.Float64)), typeof(ArgumentException)))
        .Append(new("a rank-2 student feature", c =>
            DistillationTermFixtures.WithFeature(c, "student", "s1", zeros(3, 2, ScalarType.Float64)), typeof(ArgumentException)));
}
