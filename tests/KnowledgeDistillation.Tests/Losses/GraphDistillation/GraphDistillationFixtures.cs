using System.Text.Json;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

internal sealed record LogitsGraphCase(string Distance, double EdgeEntropyWeight, double Value, FlatTensor VertexWeights, FlatTensor PerTeacher, FlatTensor Grad, FlatTensor EdgeGrad);

internal sealed record SinkhornCase(FlatTensor LogP, FlatTensor LogQ, double Epsilon, int Iterations, FlatTensor Value, FlatTensor Grad);

internal sealed record CbpCase(long[] Hash1, float[] Sign1, long[] Hash2, float[] Sign2, int OutputDimension, FlatTensor X, FlatTensor Y, FlatTensor Sketch, FlatTensor Pooled, FlatTensor Probe, FlatTensor Grad);

internal sealed record MmdCase(FlatTensor X, FlatTensor Y, double[] Bandwidths, double Value, FlatTensor Grad);

internal sealed record EdgeHashes(long[] Hash1, float[] Sign1, long[] Hash2, float[] Sign2);

internal sealed record RepresentationCase(
    string Pooling, string Matching, double Value, FlatTensor EdgeLogits, FlatTensor[] Weights, FlatTensor[] Biases, FlatTensor Grad, FlatTensor EdgeGrad, FlatTensor[] WeightGrads, FlatTensor[] BiasGrads);

internal sealed record RepresentationFixture(FlatTensor[] TeacherFeatures, FlatTensor StudentFeature, int PooledDimension, double[] Bandwidths, EdgeHashes[] Hashes, RepresentationCase[] Cases);

internal sealed record GraphDistillationFixtureFile(
    string TorchVersion,
    int Seed,
    double Temperature,
    FlatTensor Student,
    FlatTensor[] Teachers,
    FlatTensor EdgeLogits,
    FlatTensor Cost,
    LogitsGraphCase[] LogitsCases,
    SinkhornCase Sinkhorn,
    CbpCase Cbp,
    MmdCase Mmd,
    RepresentationFixture Representation);

/// <summary>
/// Reads Fixtures/graph_distillation_terms.json, written by tests/fixtures/generate_graph_distillation_fixtures.py (PyTorch 1.13,
/// float64), and builds the graph distillation terms and contexts from it (teachers "t0", "t1", "t2").
/// </summary>
internal static class GraphDistillationFixtures
{
    private static readonly Lazy<GraphDistillationFixtureFile> File = new(Load);

    public static GraphDistillationFixtureFile Data => File.Value;

    public static string[] TeacherNames => Enumerable.Range(0, Data.Teachers.Length).Select(k => $"t{k}").ToArray();

    public static DistributionDistance Distance(string name) => name switch
    {
        "emd-ordered" => DistributionDistance.OrderedEmd(),
        "emd-01" => DistributionDistance.ZeroOneEmd(),
        "emd-sinkhorn" => DistributionDistance.SinkhornEmd(Data.Cost.ToTensor(), 0.1, 50),
        "kl" => DistributionDistance.KL(),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown distance."),
    };

    /// <summary>The logits graph term of a case, float64, its edge logits set to the fixture's θ.</summary>
    public static LogitsGraphLoss LogitsLoss(LogitsGraphCase c)
    {
        var loss = new LogitsGraphLoss(TeacherNames, Distance(c.Distance), Data.Temperature, edgeEntropyWeight: c.EdgeEntropyWeight);
        loss.Graph.to(ScalarType.Float64);
        using (no_grad())
        {
            loss.Graph.EdgeLogits.copy_(Data.EdgeLogits.ToTensor());
        }

        return loss;
    }

    /// <summary>A context with the given student logits and features (leaves) and the fixture's teachers (leaves that require grad).</summary>
    public static (DistillationContext Context, Tensor[] Frozen) Context(Tensor studentLogits, Tensor? studentFeature = null, Device? device = null)
    {
        device ??= CPU;
        var frozen = new List<Tensor>();
        var outputs = new Dictionary<string, ModelOutput>
        {
            ["student"] = new(studentLogits, studentFeature is null ? null : new Dictionary<string, Tensor> { ["embedding"] = studentFeature }),
        };
        for (var k = 0; k < Data.Teachers.Length; k++)
        {
            var logits = Data.Teachers[k].ToTensor().to(device).requires_grad_();
            var feature = Data.Representation.TeacherFeatures[k].ToTensor().to(device).requires_grad_();
            frozen.Add(logits);
            frozen.Add(feature);
            outputs[$"t{k}"] = new ModelOutput(logits, new Dictionary<string, Tensor> { ["embedding"] = feature });
        }

        var batchSize = studentLogits.shape[0];
        var batch = new Batch(zeros(batchSize, 1, ScalarType.Float64, device), zeros(batchSize, ScalarType.Int64, device), arange(batchSize, ScalarType.Int64, device));
        return (new DistillationContext(batch, outputs), frozen.ToArray());
    }

    /// <summary>The representation graph term of a case, float64, with the fixture's hashes, adapter weights and edge logits.</summary>
    public static RepresentationGraphLoss RepresentationLoss(RepresentationCase c, double edgeEntropyWeight = 0.0)
    {
        var r = Data.Representation;
        var pooling = c.Pooling == "compact-bilinear" ? PairPooling.CompactBilinear : PairPooling.Concatenation;
        var matching = c.Matching == "mmd" ? RepresentationMatching.Mmd : RepresentationMatching.SquaredError;
        var dims = r.TeacherFeatures.Select(f => (int)f.Shape[1]).ToArray();
        var graph = new RepresentationGraph(dims, (int)r.StudentFeature.Shape[1], r.PooledDimension, pooling);
        graph.to(ScalarType.Float64);
        using (no_grad())
        {
            graph.EdgeLogits.copy_(c.EdgeLogits.ToTensor());
            for (var e = 0; e < graph.Edges.Count; e++)
            {
                graph.Adapter(e).weight!.copy_(c.Weights[e].ToTensor());
                graph.Adapter(e).bias!.copy_(c.Biases[e].ToTensor());
                if (pooling == PairPooling.CompactBilinear)
                {
                    var buffers = graph.PoolingOf(e).named_buffers().ToDictionary(b => b.name, b => b.buffer);
                    var h = r.Hashes[e];
                    buffers["hash1"].copy_(tensor(h.Hash1));
                    buffers["sign1"].copy_(tensor(h.Sign1.Select(s => (double)s).ToArray()));
                    buffers["hash2"].copy_(tensor(h.Hash2));
                    buffers["sign2"].copy_(tensor(h.Sign2.Select(s => (double)s).ToArray()));
                }
            }
        }

        return new RepresentationGraphLoss(TeacherNames, graph, new[] { "embedding" }, "embedding", matching, r.Bandwidths, edgeEntropyWeight);
    }

    private static GraphDistillationFixtureFile Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "graph_distillation_terms.json");
        using var stream = System.IO.File.OpenRead(path);
        var options = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        return JsonSerializer.Deserialize<GraphDistillationFixtureFile>(stream, options) ?? throw new InvalidOperationException($"Could not read {path}.");
    }
}
