using System.Text.Json;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Recommendation;

/// <summary>Reads Fixtures/recommendation_terms.json (tests/fixtures/generate_recommendation_fixtures.py, PyTorch 1.13 float64).</summary>
internal static class RecommendationFixtures
{
    private static readonly Lazy<JsonDocument> File = new(() =>
        JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "recommendation_terms.json"))));

    public static JsonElement Root => File.Value.RootElement;

    /// <summary>A {"shape", "data"} entry as a float64 tensor (a leaf that requires grad when asked).</summary>
    public static Tensor T(JsonElement e, bool grad = false)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        var t = tensor(data, shape, ScalarType.Float64);
        return grad ? t.requires_grad_(true) : t;
    }

    public static double D(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    public static int[][] Lists(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();

    /// <summary>Max |a - b| over all elements.</summary>
    public static double MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<double>();
}
