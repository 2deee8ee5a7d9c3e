using System.Text.Json;

namespace KnowledgeDistillation.Tests.Models;

/// <summary>One named tensor of a PyTorch state dict (parameters and BatchNorm running statistics).</summary>
internal sealed record StateEntry(string Name, long[] Shape, double[] Values);

/// <summary>A small CIFAR ResNet with fixed weights, an input and PyTorch's logits in eval and train mode (float64).</summary>
internal sealed record ResNetCase(
    string Name,
    int Depth,
    int StemWidth,
    int[] StageWidths,
    int NumClasses,
    int InputChannels,
    long ParameterCount,
    StateEntry[] State,
    long[] InputShape,
    double[] Input,
    double[][] EvalLogits,
    double[][] TrainLogits);

/// <summary>A parameter count of a PyTorch CIFAR ResNet configuration.</summary>
internal sealed record ResNetCount(string Name, int Depth, int StemWidth, int[] StageWidths, int NumClasses, int InputChannels, long ParameterCount);

internal sealed record ResNetFixtureFile(string TorchVersion, int Seed, ResNetCase[] Cases, ResNetCount[] ParameterCounts);

/// <summary>
/// Reads Fixtures/resnet_cifar.json, written by tests/fixtures/generate_resnet_fixtures.py (an independent PyTorch definition
/// of the network), so the tests never need Python.
/// </summary>
internal static class ResNetFixtures
{
    private static readonly Lazy<ResNetFixtureFile> File = new(Load);

    public static IReadOnlyList<ResNetCase> Cases => File.Value.Cases;

    public static IReadOnlyList<ResNetCount> ParameterCounts => File.Value.ParameterCounts;

    public static ResNetCase Case(string name) =>
        Cases.SingleOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"No fixture case '{name}'.");

    public static IEnumerable<object[]> Names() => Cases.Select(c => new object[] { c.Name });

    private static ResNetFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "resnet_cifar.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var file = JsonSerializer.Deserialize<ResNetFixtureFile>(stream, options)
            ?? throw new InvalidOperationException($"Could not read {path}.");
        return file.Cases is { Length: > 0 } && file.ParameterCounts is { Length: > 0 }
            ? file
            : throw new InvalidOperationException($"{path} has no cases.");
    }
}
