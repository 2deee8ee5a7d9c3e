using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Two-layer GAT (Veličković et al. 2018): H heads of width F concatenated with ELU, then one output head; dropout on features and attention.</summary>
public sealed class Gat : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly GatConv conv1;
    private readonly GatConv conv2;
    private readonly long inFeatures;

    /// <summary>Creates the model for <paramref name="graph"/> (self loops are added).</summary>
    public Gat(GraphAdjacency graph, long inFeatures, long classes, long hidden = 8, long heads = 8, double featureDropout = 0.6, double attentionDropout = 0.6)
        : base("gat")
    {
        ArgumentNullException.ThrowIfNull(graph);
        this.inFeatures = inFeatures;
        propagation = new GraphPropagation(graph.WithSelfLoops());
        GraphModelChecks.Probability(featureDropout, nameof(featureDropout));
        conv1 = new GatConv(propagation, inFeatures, hidden, heads, attentionDropout, inputDropout: featureDropout, name: "conv1");
        conv2 = new GatConv(propagation, hidden * heads, classes, 1, attentionDropout, inputDropout: featureDropout, name: "conv2");
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        GraphModelChecks.Features(x, propagation.NodeCount, inFeatures, "GAT");
        using var scope = NewDisposeScope();
        // ELU written out: TorchSharp 0.107's elu passes temporary Scalars to native code without keeping them alive,
        // and a garbage collection during the call crashed a long benchmark run ("toFloat" check failure).
        var z = conv1.call(x).flatten(1);
        var h = z.clamp_min(0) + z.clamp_max(0).exp() - 1;
        return conv2.call(h).mean(new long[] { 1 }).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var z = graph.Node("Flatten", new[] { graph.Emit(conv1, input, nameof(conv1)) }, OnnxAttribute.Int("axis", 1));
        var h = graph.Node("Elu", new[] { z }, OnnxAttribute.Float("alpha", 1));
        var heads = graph.Emit(conv2, h, nameof(conv2));
        return graph.Node("ReduceMean", new[] { heads, graph.Int64s(1) }, OnnxAttribute.Int("keepdims", 0));
    }
}
