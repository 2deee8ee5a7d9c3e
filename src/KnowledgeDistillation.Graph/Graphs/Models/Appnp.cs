using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// APPNP (Klicpera et al. 2019): an MLP predicts Z, then K steps of personalised PageRank
/// <c>H = (1 - alpha) Â H + alpha Z</c> over Â = D^-1/2 (A+I) D^-1/2.
/// </summary>
public sealed class Appnp : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly SparseInputLinear fc1;
    private readonly Linear fc2;
    private readonly Dropout dropout;
    private readonly long inFeatures;
    private readonly double alpha;
    private readonly int steps;

    /// <summary>Creates the model for <paramref name="graph"/>.</summary>
    public Appnp(GraphAdjacency graph, long inFeatures, long classes, long hidden = 64, double dropout = 0.5, double alpha = 0.1, int steps = 10)
        : base("appnp")
    {
        ArgumentNullException.ThrowIfNull(graph);
        this.inFeatures = inFeatures;
        this.alpha = Guard.InRange(alpha, 0, 1, nameof(alpha));
        this.steps = (int)GraphModelChecks.Positive(steps, nameof(steps));
        propagation = new GraphPropagation(graph.WithSelfLoops().Normalize(AdjacencyNormalization.Symmetric));
        fc1 = new SparseInputLinear(inFeatures, hidden, hasBias: true, dropout, "fc1");
        fc2 = nn.Linear(hidden, classes);
        this.dropout = nn.Dropout(GraphModelChecks.Probability(dropout, nameof(dropout)));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        GraphModelChecks.Features(x, propagation.NodeCount, inFeatures, "APPNP");
        using var scope = NewDisposeScope();
        var z = fc2.call(dropout.call(nn.functional.relu(fc1.call(x))));
        var h = z;
        for (var k = 0; k < steps; k++)
        {
            h = ((1 - alpha) * propagation.call(h)) + (alpha * z);
        }

        return h.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var z = graph.Emit(fc2, graph.Relu(graph.Emit(fc1, input, nameof(fc1))), nameof(fc2));
        var teleport = graph.Mul(graph.Scalar(alpha), z);
        var keep = graph.Scalar(1 - alpha);
        var h = z;
        for (var k = 0; k < steps; k++)
        {
            h = graph.Add(graph.Mul(keep, graph.Emit(propagation, h, nameof(propagation))), teleport);
        }

        return h;
    }
}
