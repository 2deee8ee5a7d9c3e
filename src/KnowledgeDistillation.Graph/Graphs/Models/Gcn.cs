using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Two-layer GCN (Kipf and Welling 2017) over D^-1/2 (A+I) D^-1/2: dropout, conv, ReLU, dropout, conv -> logits.</summary>
public sealed class Gcn : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly GcnConv conv1;
    private readonly GcnConv conv2;
    private readonly long inFeatures;

    /// <summary>Creates the model for <paramref name="graph"/> (self loops are added, weights renormalised).</summary>
    public Gcn(GraphAdjacency graph, long inFeatures, long classes, long hidden = 64, double dropout = 0.5)
        : base("gcn")
    {
        ArgumentNullException.ThrowIfNull(graph);
        this.inFeatures = inFeatures;
        propagation = new GraphPropagation(graph.WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric));
        GraphModelChecks.Probability(dropout, nameof(dropout));
        conv1 = new GcnConv(propagation, inFeatures, hidden, dropout, "conv1");
        conv2 = new GcnConv(propagation, hidden, classes, dropout, "conv2");
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        GraphModelChecks.Features(x, propagation.NodeCount, inFeatures, "GCN");
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
