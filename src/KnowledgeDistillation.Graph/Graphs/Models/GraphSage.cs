using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Two-layer GraphSAGE with the mean aggregator (Hamilton et al. 2017), full-graph.</summary>
public sealed class GraphSage : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly SageConv conv1;
    private readonly SageConv conv2;
    private readonly long inFeatures;

    /// <summary>Creates the model for <paramref name="graph"/> (self loops removed, mean over neighbours).</summary>
    public GraphSage(GraphAdjacency graph, long inFeatures, long classes, long hidden = 16, double dropout = 0.5)
        : base("graphsage")
    {
        ArgumentNullException.ThrowIfNull(graph);
        this.inFeatures = inFeatures;
        propagation = new GraphPropagation(graph.WithoutSelfLoops().Normalize(AdjacencyNormalization.RandomWalk));
        GraphModelChecks.Probability(dropout, nameof(dropout));
        conv1 = new SageConv(propagation, inFeatures, hidden, dropout, "conv1");
        conv2 = new SageConv(propagation, hidden, classes, dropout, "conv2");
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        GraphModelChecks.Features(x, propagation.NodeCount, inFeatures, "GraphSAGE");
        using var scope = NewDisposeScope();
        var h = nn.functional.relu(conv1.call(x));
        return conv2.call(h).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Emit(conv2, graph.Relu(graph.Emit(conv1, input, nameof(conv1))), nameof(conv2));
    }
}
