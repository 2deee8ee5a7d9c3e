using System.Text.Json;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record ClipContrastiveCase(double Temperature, FlatTensor Embeddings, double Value, FlatTensor Grad);

internal sealed record ClipContrastiveFixtureFile(string TorchVersion, int Seed, ClipContrastiveCase[] Cases);

/// <summary>Reads Fixtures/clip_contrastive_terms.json, written by tests/fixtures/generate_clip_contrastive_fixtures.py (PyTorch 1.13, float64).</summary>
internal static class ClipContrastiveFixtures
{
    private static readonly Lazy<ClipContrastiveFixtureFile> File = new(Load);

    public static ClipContrastiveFixtureFile Data => File.Value;

    private static ClipContrastiveFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "clip_contrastive_terms.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<ClipContrastiveFixtureFile>(stream, options) ?? throw new InvalidOperationException($"Could not read {path}.");
    }
}
