using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record CrdReference(
    long DataSize,
    int Negatives,
    double Temperature,
    double Momentum,
    FlatTensor StudentFeature,
    FlatTensor TeacherFeature,
    Dictionary<string, FlatTensor> Weights,
    FlatTensor StudentBank,
    FlatTensor TeacherBank,
    long[] Positives,
    long[][] Negatives1,
    long[][] Negatives2,
    double Value,
    double StudentAnchor,
    double TeacherAnchor,
    double[] Normalizers,
    FlatTensor Grad,
    Dictionary<string, FlatTensor> WeightGrads,
    FlatTensor StudentBankAfter,
    FlatTensor TeacherBankAfter,
    FlatTensor SecondStudentFeature,
    double SecondValue);

internal sealed record ReviewReference(
    FlatTensor[] Students,
    FlatTensor[] Teachers,
    Dictionary<string, FlatTensor>[] Weights,
    double Value,
    FlatTensor[] Grads,
    Dictionary<string, FlatTensor>[] WeightGrads);

internal sealed record VidReference(
    FlatTensor[] Students,
    FlatTensor[] Teachers,
    Dictionary<string, FlatTensor>[] Weights,
    double Value,
    double[] Stages,
    FlatTensor[] Grads,
    Dictionary<string, FlatTensor>[] WeightGrads);

internal sealed record ContrastiveTermFixtureFile(string TorchVersion, int Seed, CrdReference Crd, ReviewReference Reviewkd, VidReference Vid);

/// <summary>
/// Reads Fixtures/contrastive_terms.json, written by tests/fixtures/generate_contrastive_term_fixtures.py (PyTorch 1.13,
/// float64, the authors' formulas).
/// </summary>
internal static class ContrastiveTermFixtures
{
    private static readonly Lazy<ContrastiveTermFixtureFile> File = new(Load);

    public static ContrastiveTermFixtureFile Data => File.Value;

    private static ContrastiveTermFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "contrastive_terms.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<ContrastiveTermFixtureFile>(stream, options) ?? throw new InvalidOperationException($"Could not read {path}.");
    }
}
