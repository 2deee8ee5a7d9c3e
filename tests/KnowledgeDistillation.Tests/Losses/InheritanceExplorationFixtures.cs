using System.Text.Json;
using FluentAssertions;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>A tensor as the fixture stores it: shape plus row-major float64 values.</summary>
internal sealed record FlatTensor(long[] Shape, double[] Data)
{
    public Tensor ToTensor() => tensor(Data, Shape, ScalarType.Float64);
}

/// <summary>One IE-KD case: inputs, the exported weights, and PyTorch's value, parts and gradients.</summary>
internal sealed record InheritanceExplorationCase(
    string Name,
    string Description,
    string Exploration,
    string Mode,
    double InheritanceWeight,
    double ExplorationWeight,
    double ReconstructionWeight,
    int FactorChannels,
    long[] Inheritance,
    long[] ExplorationChannels,
    FlatTensor StudentFeature,
    FlatTensor TeacherFeature,
    Dictionary<string, FlatTensor> EncoderInheritance,
    Dictionary<string, FlatTensor> EncoderExploration,
    Dictionary<string, FlatTensor> Autoencoder,
    double Value,
    double Inherit,
    double Explore,
    double? Reconstruct,
    FlatTensor GradStudent,
    FlatTensor GradInheritanceConv1,
    FlatTensor? GradAutoencoderEncoderConv1);

/// <summary>The reconstruction case: an autoencoder in train mode on a teacher map.</summary>
internal sealed record ReconstructionCase(
    FlatTensor TeacherFeature, int FactorChannels, Dictionary<string, FlatTensor> Autoencoder, double Value, FlatTensor GradEncoderConv1, FlatTensor GradDecoderConv3);

internal sealed record InheritanceExplorationFixtureFile(string TorchVersion, int Seed, InheritanceExplorationCase[] Cases, ReconstructionCase Reconstruction);

/// <summary>
/// Reads Fixtures/inheritance_exploration.json, written by tests/fixtures/generate_inheritance_exploration_fixtures.py
/// (PyTorch, float64, functional ops written from the formulas), so the tests never need Python.
/// </summary>
internal static class InheritanceExplorationFixtures
{
    private static readonly Lazy<InheritanceExplorationFixtureFile> File = new(Load);

    public static IReadOnlyList<InheritanceExplorationCase> Cases => File.Value.Cases;

    public static ReconstructionCase Reconstruction => File.Value.Reconstruction;

    public static InheritanceExplorationCase Case(string name) =>
        Cases.SingleOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"No fixture case '{name}'.");

    public static IEnumerable<object[]> Names() => Cases.Select(c => new object[] { c.Name });

    /// <summary>
    /// Converts <paramref name="module"/> to float64 and copies every exported value into its state by name (so the C#
    /// names must be the official PyTorch names); every float entry of the state must be covered.
    /// </summary>
    public static void LoadInto(nn.Module module, IReadOnlyDictionary<string, FlatTensor> weights)
    {
        module.to(ScalarType.Float64);
        var state = module.state_dict();
        using var noGrad = no_grad();
        foreach (var (name, value) in weights)
        {
            state.Should().ContainKey(name, "the C# module must use the official state-dict names");
            state[name].shape.Should().Equal(value.Shape, "shape of {0}", name);
            state[name].copy_(value.ToTensor());
        }

        state.Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal) && !k.EndsWith("_index", StringComparison.Ordinal))
            .Should().BeSubsetOf(weights.Keys, "every weight and running statistic comes from the fixture");
    }

    public static double[] Values(Tensor t) => t.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    private static InheritanceExplorationFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "inheritance_exploration.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var file = JsonSerializer.Deserialize<InheritanceExplorationFixtureFile>(stream, options)
            ?? throw new InvalidOperationException($"Could not read {path}.");
        return file.Cases is { Length: > 0 } ? file : throw new InvalidOperationException($"{path} has no cases.");
    }
}
