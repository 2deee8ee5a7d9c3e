using System.Text.Json;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record DrKdReference(double Temperature, double Alpha, double Value, double[][] Grad);

internal sealed record TfKdRegReference(
    double CorrectProbability, double Temperature, LossReference Official, LossReference Paper, double TotalAlpha, double TotalMultiplier, LossReference Total);

/// <summary>One case of Fixtures/self_distillation.json: inputs, the rectified teacher and PyTorch references.</summary>
internal sealed record SelfDistillationCase(
    string Name, string Description, double[][] Student, double[][] Teacher, long[] Labels, double[][] Rectified, DrKdReference[] Drkd, TfKdRegReference[] TfkdReg);

internal sealed record SelfDistillationFixtureFile(string TorchVersion, int Seed, SelfDistillationCase[] Cases);

/// <summary>
/// Reads Fixtures/self_distillation.json, written by tests/fixtures/generate_self_distillation_fixtures.py (PyTorch, float64,
/// with its own loop-based rectification), so the tests never need Python.
/// </summary>
internal static class SelfDistillationFixtures
{
    private static readonly Lazy<SelfDistillationFixtureFile> File = new(Load);

    public static IReadOnlyList<SelfDistillationCase> Cases => File.Value.Cases;

    public static SelfDistillationCase Case(string name) =>
        Cases.SingleOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"No fixture case '{name}'.");

    public static IEnumerable<object[]> Names() => Cases.Select(c => new object[] { c.Name });

    private static SelfDistillationFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "self_distillation.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var file = JsonSerializer.Deserialize<SelfDistillationFixtureFile>(stream, options)
            ?? throw new InvalidOperationException($"Could not read {path}.");
        return file.Cases is { Length: > 0 } ? file : throw new InvalidOperationException($"{path} has no cases.");
    }
}
