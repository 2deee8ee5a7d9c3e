using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>SGC (Wu et al. 2019): logistic regression on Â^K X, Â = D^-1/2 (A+I) D^-1/2. Â^K X is computed once per input and cached.</summary>
public sealed class Sgc : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly Linear linear;
    private readonly long inFeatures;
    private readonly int steps;
    private Tensor? cachedInput;
    private Tensor? cachedFiltered;

    /// <summary>Creates the model for <paramref name="graph"/> with <paramref name="steps"/> propagation steps.</summary>
    public Sgc(GraphAdjacency graph, long inFeatures, long classes, int steps = 2)
        : base("sgc")
    {
        ArgumentNullException.ThrowIfNull(graph);
        this.inFeatures = inFeatures;
        this.steps = (int)GraphModelChecks.Positive(steps, nameof(steps));
        propagation = new GraphPropagation(graph.WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric));
        linear = nn.Linear(inFeatures, classes);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        GraphModelChecks.Features(x, propagation.NodeCount, inFeatures, "SGC");
        return linear.call(GraphFilter.Cached(x, ref cachedInput, ref cachedFiltered, input => GraphFilter.Power(propagation, input, steps)));
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

        return graph.Emit(linear, h, nameof(linear));
    }
}
