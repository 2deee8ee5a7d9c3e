using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// GCNII (Chen et al. 2020): a linear input layer with ReLU, L <see cref="GcniiConv"/> layers with ReLU and dropout,
/// and a linear output layer.
/// </summary>
public sealed class Gcnii : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly SparseInputLinear input;
    private readonly ModuleList<GcniiConv> convs;
    private readonly Linear output;
    private readonly Dropout dropout;
    private readonly long inFeatures;

    /// <summary>Creates the model for <paramref name="graph"/>.</summary>
    public Gcnii(GraphAdjacency graph, long inFeatures, long classes, long hidden = 64, int layers = 16, double alpha = 0.1, double lambda = 0.5, double dropout = 0.6)
        : base("gcnii")
    {
        ArgumentNullException.ThrowIfNull(graph);
        this.inFeatures = inFeatures;
        GraphModelChecks.Positive(layers, nameof(layers));
        propagation = new GraphPropagation(graph.WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric));
        input = new SparseInputLinear(inFeatures, hidden, hasBias: true, dropout, "input");
        convs = nn.ModuleList(Enumerable.Range(1, layers).Select(l => new GcniiConv(propagation, hidden, l, alpha, lambda, $"conv{l}")).ToArray());
        output = nn.Linear(hidden, classes);
        this.dropout = nn.Dropout(GraphModelChecks.Probability(dropout, nameof(dropout)));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        GraphModelChecks.Features(x, propagation.NodeCount, inFeatures, "GCNII");
        using var scope = NewDisposeScope();
        var h0 = nn.functional.relu(input.call(x));
        var h = h0;
        foreach (var conv in convs)
        {
            h = nn.functional.relu(conv.call(dropout.call(h), h0));
        }

        return output.call(dropout.call(h)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var h0 = graph.Relu(graph.Emit(this.input, input, nameof(this.input)));
        var h = h0;
        for (var i = 0; i < convs.Count; i++)
        {
            using var scope = graph.Scope($"{nameof(convs)}.{i}");
            h = graph.Relu(convs[i].EmitOnnx(graph, h, h0));
        }

        return graph.Emit(output, h, nameof(output));
    }
}
