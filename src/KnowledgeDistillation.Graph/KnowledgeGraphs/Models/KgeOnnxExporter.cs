using KnowledgeDistillation.Onnx;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Exports the triple scoring function f(h, r, t) of a <see cref="KgeModel"/> (<see cref="TransE"/>, <see cref="DistMult"/>,
/// <see cref="ComplEx"/>, <see cref="RotatE"/>) to ONNX: int64 inputs <c>heads</c>, <c>relations</c> and <c>tails</c>
/// (one id per triple, [batch]), float32 output <c>scores</c> ([batch]) equal to <see cref="KgeModel.Score"/>. The
/// embedding tables are float32 initializers read with <c>Gather</c>; ids must be in range (ONNX Runtime rejects
/// others). Ranking every entity (<see cref="KgeModel.ScoreAllTails"/>) is done by passing every candidate as a triple.
/// </summary>
public static class KgeOnnxExporter
{
    /// <summary>The names of the graph's inputs, in order.</summary>
    public static IReadOnlyList<string> InputNames { get; } = new[] { "heads", "relations", "tails" };

    /// <summary>The name of the graph's output.</summary>
    public const string OutputName = "scores";

    /// <summary>Exports <paramref name="model"/>'s scoring function to the file <paramref name="path"/>.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The destination <c>.onnx</c> file.</param>
    /// <param name="opset">The ONNX opset (<see cref="OnnxGraphBuilder.MinOpset"/> to <see cref="OnnxGraphBuilder.MaxOpset"/>).</param>
    /// <exception cref="OnnxExportException">A <see cref="KgeModel"/> subclass this exporter does not know.</exception>
    public static void Export(KgeModel model, string path, int opset = OnnxExportOptions.DefaultOpset)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var bytes = ToBytes(model, opset);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary); // no-op after the move
        }
    }

    /// <summary>Exports <paramref name="model"/>'s scoring function and returns the ONNX model's bytes.</summary>
    /// <param name="model">The model.</param>
    /// <param name="opset">The ONNX opset.</param>
    /// <returns>The serialized <c>ModelProto</c>.</returns>
    /// <exception cref="OnnxExportException">A <see cref="KgeModel"/> subclass this exporter does not know.</exception>
    public static byte[] ToBytes(KgeModel model, int opset = OnnxExportOptions.DefaultOpset)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = new OnnxGraphBuilder(opset);
        var batch = new[] { OnnxDimension.Symbolic("batch") };
        var ids = InputNames.Select(name => graph.AddInput(name, OnnxDataType.Int64, batch)).ToArray();
        var axis0 = OnnxAttribute.Int("axis", 0);
        var entities = graph.Initializer(model.EntityEmbeddings, "entities");
        var h = graph.Node("Gather", new[] { entities, ids[0] }, axis0);
        var r = graph.Node("Gather", new[] { graph.Initializer(model.RelationEmbeddings, "relations"), ids[1] }, axis0);
        var t = graph.Node("Gather", new[] { entities, ids[2] }, axis0);
        var scores = model switch
        {
            TransE transE => TransEScore(graph, transE, h, r, t),
            DistMult => graph.ReduceSum(graph.Mul(graph.Mul(h, r), t), false, -1),
            ComplEx complEx => ComplExScore(graph, complEx, h, r, t),
            RotatE rotatE => RotatEScore(graph, rotatE, h, r, t),
            _ => throw new OnnxExportException(string.Empty, model.GetType().FullName ?? model.GetType().Name,
                "only TransE, DistMult, ComplEx and RotatE scoring functions are exported."),
        };
        graph.AddOutput(scores, OutputName, OnnxDataType.Float, batch);
        using var stream = new MemoryStream();
        graph.WriteModel(stream, model.GetName());
        return stream.ToArray();
    }

    private static OnnxValue TransEScore(OnnxGraphBuilder g, TransE model, OnnxValue h, OnnxValue r, OnnxValue t)
    {
        var d = g.Sub(g.Add(h, r), t);
        var distance = model.Norm == 1
            ? g.ReduceSum(g.Node("Abs", new[] { d }), false, -1)
            : g.Node("Sqrt", new[] { g.ReduceSum(g.Mul(d, d), false, -1) });
        return g.Sub(g.Scalar(model.Margin), distance);
    }

    private static OnnxValue ComplExScore(OnnxGraphBuilder g, ComplEx model, OnnxValue h, OnnxValue r, OnnxValue t)
    {
        var (hRe, hIm) = Halves(g, h, model.Dimension);
        var (rRe, rIm) = Halves(g, r, model.Dimension);
        var (tRe, tIm) = Halves(g, t, model.Dimension);
        var sum = g.Add(g.Add(g.Mul(g.Mul(hRe, rRe), tRe), g.Mul(g.Mul(hIm, rRe), tIm)), g.Mul(g.Mul(hRe, rIm), tIm));
        return g.ReduceSum(g.Sub(sum, g.Mul(g.Mul(hIm, rIm), tRe)), false, -1);
    }

    private static OnnxValue RotatEScore(OnnxGraphBuilder g, RotatE model, OnnxValue h, OnnxValue r, OnnxValue t)
    {
        var (hRe, hIm) = Halves(g, h, model.Dimension);
        var (tRe, tIm) = Halves(g, t, model.Dimension);
        var cos = g.Node("Cos", new[] { r });
        var sin = g.Node("Sin", new[] { r });
        var re = g.Sub(g.Sub(g.Mul(hRe, cos), g.Mul(hIm, sin)), tRe);
        var im = g.Sub(g.Add(g.Mul(hRe, sin), g.Mul(hIm, cos)), tIm);
        var modulus = g.Node("Sqrt", new[] { g.Add(g.Mul(re, re), g.Mul(im, im)) });
        return g.Sub(g.Scalar(model.Margin), g.ReduceSum(modulus, false, -1));
    }

    private static (OnnxValue Re, OnnxValue Im) Halves(OnnxGraphBuilder g, OnnxValue x, long half) =>
        (g.Slice(x, -1, 0, half), g.Slice(x, -1, half, 2 * half));
}
