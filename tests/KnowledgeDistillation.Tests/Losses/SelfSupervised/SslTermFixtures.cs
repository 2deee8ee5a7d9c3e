using System.Text.Json;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record NtXentReference(FlatTensor First, FlatTensor Second, double Temperature, double Value, FlatTensor GradFirst, FlatTensor GradSecond);

internal sealed record MocoReference(FlatTensor Query, FlatTensor Key, FlatTensor Queue, long Pointer, double Temperature, double Value, FlatTensor Grad, FlatTensor QueueAfter, long PointerAfter);

internal sealed record QueueTermValue(double Value, FlatTensor Grad, double Temperature = 0, double StudentTemperature = 0, double TeacherTemperature = 0);

internal sealed record QueueTermsReference(FlatTensor Student, FlatTensor Teacher, FlatTensor Queue, QueueTermValue Seed, QueueTermValue Compress);

internal sealed record RekdCase(string Relation, double Parameter, double Value, double Instance, double RelationValue, FlatTensor Grad);

internal sealed record RekdReference(FlatTensor Query, FlatTensor Key, FlatTensor Queue, FlatTensor Teacher, FlatTensor TeacherQueue, double Temperature, double Weight, RekdCase[] Cases);

internal sealed record HkdReference(
    double Temperature,
    int Neighbours,
    long DataSize,
    FlatTensor StudentFeature,
    FlatTensor TeacherFeature,
    FlatTensor StudentLogits,
    FlatTensor TeacherLogits,
    Dictionary<string, FlatTensor> Weights,
    FlatTensor StudentBank,
    FlatTensor TeacherBank,
    long[] Indices,
    long[][] Negatives,
    double Value,
    double Individual,
    double Holistic,
    FlatTensor Grad,
    Dictionary<string, FlatTensor> WeightGrads,
    FlatTensor StudentBankAfter,
    FlatTensor TeacherBankAfter,
    double SmallValue);

internal sealed record SslTermFixtureFile(string TorchVersion, int Seed, NtXentReference Ntxent, MocoReference Moco, QueueTermsReference QueueTerms, RekdReference Rekd, HkdReference Hkd);

/// <summary>
/// Reads Fixtures/ssl_terms.json, written by tests/fixtures/generate_ssl_fixtures.py (PyTorch 1.13, float64, the papers'
/// formulas and the official HKD code, written with loops independently of the C# code).
/// </summary>
internal static class SslTermFixtures
{
    private static readonly Lazy<SslTermFixtureFile> File = new(Load);

    public static SslTermFixtureFile Data => File.Value;

    private static SslTermFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "ssl_terms.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<SslTermFixtureFile>(stream, options) ?? throw new InvalidOperationException($"Could not read {path}.");
    }
}
