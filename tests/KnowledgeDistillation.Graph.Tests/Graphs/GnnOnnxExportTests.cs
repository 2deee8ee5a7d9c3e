using FluentAssertions;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.Tests.Support;
using KnowledgeDistillation.Onnx;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

/// <summary>
/// Every GNN teacher exported to ONNX (edge lists as constants, Gather + ScatterND message passing) and run in ONNX
/// Runtime matches TorchSharp's eval-mode forward within 1e-5 (absolute up to magnitude 1, relative above).
/// </summary>
public sealed class GnnOnnxExportTests
{
    private const int Nodes = 40;
    private const int Features = 24;
    private const int Classes = 4;

    public static TheoryData<GnnKind> Kinds() => new(Enum.GetValues<GnnKind>());

    [Theory]
    [MemberData(nameof(Kinds))]
    public void TeacherMatchesOnnxRuntimeOnDenseAndSparseFeatures(GnnKind kind)
    {
        random.manual_seed(21);
        var graph = RandomGraph(seed: 3);
        using var model = GnnTeachers.Create(kind, graph, Features, Classes);
        model.train(); // the export gives eval semantics regardless
        var bytes = OnnxExporter.ToBytes(model, new OnnxExportOptions { InputShape = new long[] { Nodes, Features }, DynamicBatch = false });
        model.training.Should().BeTrue();

        using var dense = randn(Nodes, Features, generator: new Generator(5));
        using var sparse = (rand(Nodes, Features, generator: new Generator(6)) < 0.1).to_type(ScalarType.Float32); // bag-of-words-like: the sparse path
        foreach (var x in new[] { dense, sparse })
        {
            using var scope = NewDisposeScope();
            var expected = OnnxRuntimeRunner.EvalForward(model, x);
            OnnxRuntimeRunner.ShouldMatch(OnnxRuntimeRunner.Run(bytes, ("input", x)), expected, kind.ToString());
        }
    }

    [Theory]
    [InlineData(CpfVariant.Inductive)]
    [InlineData(CpfVariant.Transductive)]
    public void CpfStudentMatchesOnnxRuntime(CpfVariant variant)
    {
        random.manual_seed(22);
        var graph = RandomGraph(seed: 5);
        var labels = Enumerable.Range(0, Nodes).Select(i => (long)(i % Classes)).ToArray();
        using var labelTensor = tensor(labels);
        using var cpf = new CpfStudent(graph, Features, Classes, labelTensor, Enumerable.Range(0, Nodes).Where(i => i % 3 == 0).Select(i => (long)i).ToArray(),
            new CpfOptions { Variant = variant, Layers = 4 });
        using (no_grad())
        {
            cpf.Layer.BalanceLogit.copy_(randn(Nodes, 1, generator: new Generator(7)));
        }

        var bytes = OnnxExporter.ToBytes(cpf, new OnnxExportOptions { InputShape = new long[] { Nodes, Features }, DynamicBatch = false });
        using var x = (rand(Nodes, Features, generator: new Generator(8)) < 0.15).to_type(ScalarType.Float32);
        using var expected = OnnxRuntimeRunner.EvalForward(cpf, x);
        OnnxRuntimeRunner.ShouldMatch(OnnxRuntimeRunner.Run(bytes, ("input", x)), expected, variant.ToString());
    }

    [Fact]
    public void GraphModelsRefuseADynamicBatchAndSayWhy()
    {
        using var gcn = GnnTeachers.Create(GnnKind.Gcn, RandomGraph(seed: 4), Features, Classes);
        var act = () => OnnxExporter.ToBytes(gcn, new OnnxExportOptions { InputShape = new long[] { Nodes, Features } });
        act.Should().Throw<ArgumentException>().WithMessage($"*{Nodes}-node graph*DynamicBatch = false*");
    }

    [Fact]
    public void GraphAttentionNeedsOpset18()
    {
        using var gat = GnnTeachers.Create(GnnKind.Gat, RandomGraph(seed: 4), Features, Classes);
        var act = () => OnnxExporter.ToBytes(gat, new OnnxExportOptions { InputShape = new long[] { Nodes, Features }, DynamicBatch = false, Opset = 17 });
        act.Should().Throw<OnnxExportException>().WithMessage("*opset 18*").Which.LayerPath.Should().StartWith("conv1");
    }

    [Fact]
    public void WrongNodeCountIsRejectedBeforeExport()
    {
        using var sgc = GnnTeachers.Create(GnnKind.Sgc, RandomGraph(seed: 4), Features, Classes);
        var act = () => OnnxExporter.ToBytes(sgc, new OnnxExportOptions { InputShape = new long[] { Nodes + 1, Features }, DynamicBatch = false });
        act.Should().Throw<ArgumentException>().WithMessage("*InputShape*").Which.ParamName.Should().Be("InputShape");
    }

    private static GraphAdjacency RandomGraph(int seed)
    {
        var random = new Random(seed);
        var edges = new HashSet<(int, int)>();
        for (var v = 1; v < Nodes; v++)
        {
            edges.Add((random.Next(v), v)); // connected
        }

        while (edges.Count < 3 * Nodes)
        {
            var u = random.Next(Nodes);
            var v = random.Next(Nodes);
            if (u != v)
            {
                edges.Add((Math.Min(u, v), Math.Max(u, v)));
            }
        }

        return TinyGraphs.Undirected(Nodes, edges.ToArray());
    }
}
