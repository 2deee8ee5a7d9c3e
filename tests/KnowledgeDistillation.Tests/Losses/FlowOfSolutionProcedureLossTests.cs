using System.Text.Json;
using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static KnowledgeDistillation.Tests.Losses.LossTestHelpers;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record FspFixtureFile(string TorchVersion, int Seed, FlatTensor[] Student, FlatTensor[] Teacher, double Value, double[] Stages, FlatTensor[] Grads, FlatTensor Matrix);

/// <summary>Reads Fixtures/fsp_terms.json (tests/fixtures/generate_fsp_fixtures.py: RepDistiller's FSP in PyTorch float64).</summary>
internal static class FspFixtures
{
    private static readonly Lazy<FspFixtureFile> File = new(() =>
    {
        using var stream = System.IO.File.OpenRead(Path.Combine(AppContext.BaseDirectory, "Fixtures", "fsp_terms.json"));
        return JsonSerializer.Deserialize<FspFixtureFile>(stream, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower })!;
    });

    public static FspFixtureFile Data => File.Value;

    public static readonly FeaturePair[] Layers = { "l0", "l1", "l2" };

    public static LossContractCase Case(Device device) =>
        DistillationTermFixtures.FeatureCase(
            device,
            Data.Student.Select((s, i) => ($"l{i}", s)).ToArray(),
            Data.Teacher.Select((t, i) => ($"l{i}", t)).ToArray(),
            Data.Value);
}

public class FlowOfSolutionProcedureLossTests
{
    private static FspFixtureFile F => FspFixtures.Data;

    [Fact]
    public void Value_stages_and_gradients_match_repdistiller_in_pytorch()
    {
        using var scope = NewDisposeScope();
        var loss = Loss.FlowOfSolutionProcedure(FspFixtures.Layers);
        var @case = FspFixtures.Case(CPU);
        var result = loss.Compute(@case.Context);
        result.Total.backward();
        Scalar(result.Total).ShouldBeClose(F.Value, 1e-10, "FSP");
        Scalar(result.Parts["fsp.stage1"]).ShouldBeClose(F.Stages[0], 1e-10, "FSP layers 0-1");
        Scalar(result.Parts["fsp.stage2"]).ShouldBeClose(F.Stages[1], 1e-10, "FSP layers 1-2");
        for (var i = 0; i < 3; i++)
        {
            @case.Trainable[i].Leaf.grad!.ShouldMatch(F.Grads[i], 1e-10, $"gradient w.r.t. student layer {i}");
        }

        FlowOfSolutionProcedureLoss.Matrix(F.Student[0].ToTensor(), F.Student[1].ToTensor()).ShouldMatch(F.Matrix, 1e-12, "FSP matrix [B, C_top, C_bottom]");
    }

    [Fact]
    public void Mismatched_channel_counts_and_bad_configurations_are_rejected()
    {
        using var scope = NewDisposeScope();
        var valid = FspFixtures.Case(CPU);
        var wrongChannels = DistillationTermFixtures.WithFeature(valid, "teacher", "l1", zeros(3, 5, 8, 8, ScalarType.Float64));
        ((Action)(() => Loss.FlowOfSolutionProcedure(FspFixtures.Layers).Compute(wrongChannels))).Should().Throw<ArgumentException>().WithMessage("*same channel count*no connector*4 channels*5*");
        ((Action)(() => Loss.FlowOfSolutionProcedure(new FeaturePair[] { "l0" }))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "layers");
        ((Action)(() => Recipes.Fsp(FspFixtures.Layers, fspEpochs: 0))).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "fspEpochs");
        ((Action)(() => FlowOfSolutionProcedureLoss.Matrix(zeros(2, 3, 4), zeros(2, 3, 4, 4)))).Should().Throw<ArgumentException>().WithMessage("*[batch, channels, H, W]*");
    }

    [Fact]
    public void The_recipe_trains_the_student_on_fsp_then_distils()
    {
        var recipe = Recipes.Fsp(FspFixtures.Layers, fspEpochs: 2);
        recipe.Stages.Select(s => (s.Name, s.Epochs)).Should().Equal(("fsp", 2), ("distill", (int?)null));
        recipe.Stages[0].Trainable.Should().Equal("student");
        recipe.Stages[0].Loss.Requirements.Features.Should().HaveCount(6);
    }
}

/// <summary>The loss contract for FSP over three layers on the PyTorch fixture.</summary>
public sealed class FlowOfSolutionProcedureLossContractTests : LossContractTests
{
    protected override IDistillationLoss CreateLoss() => Loss.FlowOfSolutionProcedure(FspFixtures.Layers);

    protected override LossContractCase CreateCase(Device device) => FspFixtures.Case(device);

    protected override IEnumerable<LossBadInput> BadInputs => base.BadInputs
        .Concat(DistillationTermFixtures.FeatureBadInputs("l1", "l1"))
        .Append(new("teacher map of rank 3", c => DistillationTermFixtures.WithFeature(c, "teacher", "l2", zeros(3, 3, 4, ScalarType.Float64)), typeof(ArgumentException)));
}
