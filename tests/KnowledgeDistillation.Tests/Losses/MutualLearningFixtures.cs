using System.Text.Json;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>A loss value and its gradient w.r.t. every peer's logits.</summary>
internal sealed record CohortReference(double Total, double[][][] Grads);

/// <summary>PyTorch's DML values at one temperature and target ("per_peer" or "ensemble").</summary>
internal sealed record MutualLearningReference(
    double Temperature, string Target, double Total, double[] PeerValues, double[][][] Grads, CohortReference WithCe);

/// <summary>One cohort: each peer's logits, the labels and PyTorch references.</summary>
internal sealed record MutualLearningCase(string Name, string Description, long[] Labels, double[][][] Logits, MutualLearningReference[] Entries);

internal sealed record MutualLearningFixtureFile(string TorchVersion, int Seed, MutualLearningCase[] Cases);

/// <summary>
/// Reads Fixtures/mutual_learning.json, written by tests/fixtures/generate_mutual_learning_fixtures.py (PyTorch's kl_div and
/// cross_entropy, float64), so the tests never need Python.
/// </summary>
internal static class MutualLearningFixtures
{
    private static readonly Lazy<MutualLearningFixtureFile> File = new(Load);

    public static IReadOnlyList<MutualLearningCase> Cases => File.Value.Cases;

    public static MutualLearningCase Case(string name) =>
        Cases.SingleOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"No fixture case '{name}'.");

    private static MutualLearningFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "mutual_learning.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var file = JsonSerializer.Deserialize<MutualLearningFixtureFile>(stream, options)
            ?? throw new InvalidOperationException($"Could not read {path}.");
        return file.Cases is { Length: > 0 } ? file : throw new InvalidOperationException($"{path} has no cases.");
    }
}
