using System.Text.Json;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>A reference loss value and its gradient w.r.t. the student logits, computed by PyTorch.</summary>
internal sealed record LossReference(double Value, double[][] Grad);

internal sealed record CrossEntropyReference(double LabelSmoothing, LossReference Float64, LossReference? Float32);

internal sealed record KDReference(double Temperature, LossReference Float64, LossReference? Float32);

internal sealed record PairReference(LossReference Float64, LossReference? Float32);

internal sealed record CompositeReference(
    double KdWeight, double CeWeight, double Temperature, double LabelSmoothing, LossReference Float64, LossReference? Float32);

/// <summary>One set of inputs (student/teacher logits, labels) with PyTorch references for every loss.</summary>
internal sealed record LossCase(
    string Name,
    string Description,
    int Batch,
    int Classes,
    double[][] Student,
    double[][] Teacher,
    long[] Labels,
    CrossEntropyReference[] CrossEntropy,
    KDReference[] Kd,
    PairReference LogitMatching,
    PairReference InfiniteTemperature,
    CompositeReference Composite);

internal sealed record LossFixtureFile(string TorchVersion, int Seed, LossCase[] Cases);

/// <summary>
/// Reads Fixtures/losses.json, written by tests/fixtures/generate_loss_fixtures.py (PyTorch, float64 and float32).
/// The inputs are stored in the file, so the tests never need Python.
/// </summary>
internal static class LossFixtures
{
    public const string Float64 = "float64";
    public const string Float32 = "float32";

    private static readonly Lazy<LossFixtureFile> File = new(Load);

    public static LossFixtureFile Data => File.Value;

    public static IReadOnlyList<LossCase> Cases => Data.Cases;

    public static LossCase Case(string name) =>
        Data.Cases.SingleOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"No fixture case '{name}'.");

    public static LossReference? Pick(LossReference float64, LossReference? float32, string dtype) =>
        dtype == Float64 ? float64 : float32;

    private static LossFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "losses.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var file = JsonSerializer.Deserialize<LossFixtureFile>(stream, options)
            ?? throw new InvalidOperationException($"Could not read {path}.");
        if (file.Cases is null || file.Cases.Length == 0)
        {
            throw new InvalidOperationException($"{path} has no cases.");
        }

        return file;
    }
}
