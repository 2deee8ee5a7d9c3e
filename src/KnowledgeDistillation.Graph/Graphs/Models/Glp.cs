using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// GLP (Li et al. 2019, "Label efficient semi-supervised learning via graph filtering"): features filtered once by the
/// renormalised low-pass filter Â^K (RNM filter, Â = D^-1/2 (A+I) D^-1/2), then a two-layer MLP classifier.
/// </summary>
public sealed class Glp : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Dropout dropout;
    private readonly long inFeatures;
    private readonly int steps;
    private Tensor? cachedInput;
    private Tensor? cachedFiltered;

    /// <summary>Creates the model for <paramref name="graph"/>.</summary>
    public Glp(GraphAdjacency graph, long inFeatures, long classes, long hidden = 64, double dropout = 0.5, int steps = 2)
        : base("glp")
    {
        ArgumentNullException.ThrowIfNull(graph);
        this.inFeatures = inFeatures;
        this.steps = (int)GraphModelChecks.Positive(steps, nameof(steps));
        propagation = new GraphPropagation(graph.WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric));
        fc1 = nn.Linear(inFeatures, hidden);
        fc2 = nn.Linear(hidden, classes);
        this.dropout = nn.Dropout(GraphModelChecks.Probability(dropout, nameof(dropout)));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        GraphModelChecks.Features(x, propagation.NodeCount, inFeatures, "GLP");
        using var scope = NewDisposeScope();
        var filtered = GraphFilter.Cached(x, ref cachedInput, ref cachedFiltered, input => GraphFilter.Power(propagation, input, steps));
        var h = nn.functional.relu(fc1.call(dropout.call(filtered)));
        return fc2.call(dropout.call(h)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            cachedInput?.Dispose();
            cachedFiltered?.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var h = input;
        for (var k = 0; k < steps; k++)
        {
            h = graph.Emit(propagation, h, nameof(propagation));
        }

        return graph.Emit(fc2, graph.Relu(graph.Emit(fc1, h, nameof(fc1))), nameof(fc2));
    }
}
