using System.Text.Json;
using FluentAssertions;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record AbFixtureFile(
    string TorchVersion, int Seed, double Margin, FlatTensor[] Student, FlatTensor[] Teacher, Dictionary<string, FlatTensor> Weights,
    double Value, double[] Stages, FlatTensor[] Grads, Dictionary<string, FlatTensor> WeightGrads);

/// <summary>Reads Fixtures/ab_terms.json (tests/fixtures/generate_ab_fixtures.py: RepDistiller's AB and Connector in PyTorch float64).</summary>
internal static class AbFixtures
{
    private static readonly Lazy<AbFixtureFile> File = new(() =>
    {
        using var stream = System.IO.File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Fixtures", "ab_terms.json"));
        return JsonSerializer.Deserialize<AbFixtureFile>(stream, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
    });

    public static AbFixtureFile Data => File.Value;

    public static readonly FeaturePair[] Layers = { "pre1", "pre2" };

    /// <summary>The term with the fixture's connector on layer 1 (2 → 3 channels, 4x4, no ReLU) and none on layer 2, float64.</summary>
    public static ActivationBoundaryLoss Loss()
    {
        var connector = new HintRegressor(2, 3, (4, 4), (4, 4), relu: false);
        connector.to(ScalarType.Float64);
        var parameters = connector.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (no_grad())
        {
            foreach (var (name, value) in Data.Weights)
            {
                parameters[name].copy_(value.ToTensor());
            }
        }

        return new ActivationBoundaryLoss(Layers, new HintRegressor?[] { connector, null }, Data.Margin);
    }

    public static LossContractCase Case(Device device) =>
        DistillationTermFixtures.FeatureCase(
            device,
            Data.Student.Select((s, i) => (Layers[i].Student, s)).ToArray(),
            Data.Teacher.Select((t, i) => (Layers[i].Teacher, t)).ToArray(),
            Data.Value);
}

public class ActivationBoundaryLossTests
{
    private static AbFixtureFile F => AbFixtures.Data;

    [Fact]
    public void Value_stages_and_gradients_of_maps_and_connector_match_repdistiller_in_pytorch()
    {
        using var scope = NewDisposeScope();
        using var loss = AbFixtures.Loss();
        var @case = AbFixtures.Case(CPU);
        var result = loss.Compute(@case.Context);
        result.Total.backward();
        Scalar(result.Total).ShouldBeClose(F.Value, 1e-10, "AB");
        Scalar(result.Parts["ab.stage1"]).ShouldBeClose(F.Stages[0], 1e-10, "AB layer 1 (weight 1/2)");
        Scalar(result.Parts["ab.stage2"]).ShouldBeClose(F.Stages[1], 1e-10, "AB layer 2 (weight 1)");
        @case.Trainable[0].Leaf.grad!.ShouldMatch(F.Grads[0], 1e-10, "gradient w.r.t. the student's first map");
        @case.Trainable[1].Leaf.grad!.ShouldMatch(F.Grads[1], 1e-10, "gradient w.r.t. the student's second map");
        var connector = loss.Connectors[0]!;
        loss.TrainableModules.Should().Equal(connector);
        foreach (var (name, parameter) in connector.named_parameters())
        {
            parameter.grad!.ShouldMatch(F.WeightGrads[name], 1e-10, $"gradient w.r.t. connector {name}");
        }
    }

    [Fact]
    public void The_hinge_is_zero_when_the_student_is_beyond_the_margin_on_the_teachers_side()
    {
        using var scope = NewDisposeScope();
        var teacher = tensor(new[] { -0.5, 2.0, 0.0, 1.0 }, new long[] { 1, 4 }, ScalarType.Float64);
        Scalar(ActivationBoundaryLoss.Hinge(tensor(new[] { -1.0, 1.5, -3.0, 1.0 }, new long[] { 1, 4 }, ScalarType.Float64), teacher, 1.0)).Should().Be(0);

        // Wrong sides: (0.5 + 1)² for the off teacher neuron, (−0.5 − 1)² for the on one; inside the margin on the right side: (0.2 − 1)².
        Scalar(ActivationBoundaryLoss.Hinge(tensor(new[] { 0.5, -0.5, -1.0, 0.2 }, new long[] { 1, 4 }, ScalarType.Float64), teacher, 1.0))
            .ShouldBeClose(2.25 + 2.25 + 0.64, 1e-12, "hinge");
    }

    [Fact]
    public void Mismatched_shapes_without_a_connector_and_bad_configurations_are_rejected()
    {
        using var scope = NewDisposeScope();
        var valid = AbFixtures.Case(CPU);
        var noConnector = new ActivationBoundaryLoss(AbFixtures.Layers);
        ((Action)(() => noConnector.Compute(valid.Context))).Should().Throw<ArgumentException>().WithMessage("*[3, 2, 4, 4]*[3, 3, 4, 4]*pass a connector*");
        ((Action)(() => new ActivationBoundaryLoss(Array.Empty<FeaturePair>()))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "layers");
        ((Action)(() => new ActivationBoundaryLoss(AbFixtures.Layers, new HintRegressor?[] { null }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "connectors");
        using var withRelu = new HintRegressor(2, 3, (4, 4), (4, 4));
        ((Action)(() => new ActivationBoundaryLoss(AbFixtures.Layers, new HintRegressor?[] { withRelu, null }))).Should().Throw<ArgumentException>().WithMessage("*relu: false*");
        ((Action)(() => new ActivationBoundaryLoss(AbFixtures.Layers, margin: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "margin");
        ((Action)(() => Recipes.ActivationBoundaries(noConnector, abEpochs: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "abEpochs");
        var recipe = Recipes.ActivationBoundaries(noConnector, abEpochs: 2);
        recipe.Stages.Select(s => (s.Name, s.Epochs)).Should().Equal(("ab", 2), ("distill", (int?)null));
    }
}

/// <summary>The loss contract for AB (one connector, one identity layer) on the PyTorch fixture; the gradient check covers the connector.</summary>
public sealed class ActivationBoundaryLossContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss() => AbFixtures.Loss();

    protected override LossContractCase CreateCase(Device device) => AbFixtures.Case(device);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs.Concat(DistillationTermFixtures.FeatureBadInputs("pre2", "pre2"));
}
