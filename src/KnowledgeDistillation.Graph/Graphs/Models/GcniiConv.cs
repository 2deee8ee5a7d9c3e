using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// A GCNII layer (Chen et al. 2020), initial residual + identity mapping:
/// <c>s = (1 - alpha) Â h + alpha h0</c>, <c>out = (1 - beta) s + beta s W</c> with <c>beta = ln(lambda / layer + 1)</c>.
/// </summary>
public sealed class GcniiConv : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly GraphPropagation propagation;
    private readonly Linear linear;
    private readonly double alpha;

    /// <summary>Creates layer number <paramref name="layer"/> (1-based) of width <paramref name="features"/>.</summary>
    public GcniiConv(GraphPropagation propagation, long features, int layer, double alpha = 0.1, double lambda = 0.5, string name = "gcnii_conv")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(propagation);
        GraphModelChecks.Positive(features, nameof(features));
        GraphModelChecks.Positive(layer, nameof(layer));
        this.alpha = Guard.InRange(alpha, 0, 1, nameof(alpha));
        if (!(lambda > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "'lambda' must be > 0.");
        }

        this.propagation = propagation;
        Beta = Math.Log((lambda / layer) + 1);
        linear = nn.Linear(features, features, hasBias: false);
        var bound = 1.0 / Math.Sqrt(features);
        nn.init.uniform_(linear.weight, -bound, bound);
        RegisterComponents();
    }

    /// <summary>The identity-mapping strength beta = ln(lambda / layer + 1).</summary>
    public double Beta { get; }

    /// <summary>The weight W as stored by <c>Linear</c> ([F, F]; applied as s W^T).</summary>
    public Tensor Weight => linear.weight;

    /// <summary>Computes the layer from the current state <paramref name="h"/> and the initial state <paramref name="h0"/>.</summary>
    public override Tensor forward(Tensor h, Tensor h0)
    {
        using var scope = NewDisposeScope();
        var support = ((1 - alpha) * propagation.call(h)) + (alpha * h0);
        return (((1 - Beta) * support) + (Beta * linear.call(support))).MoveToOuterDisposeScope();
    }

    /// <summary>Emits the layer as ONNX from the current state <paramref name="h"/> and the initial state <paramref name="h0"/>.</summary>
    /// <param name="graph">The graph under construction (its path is this layer's).</param>
    /// <param name="h">The current state [N, F].</param>
    /// <param name="h0">The initial state [N, F].</param>
    /// <returns>The layer's output [N, F].</returns>
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue h, OnnxValue h0)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var support = graph.Add(graph.Mul(graph.Scalar(1 - alpha), graph.Emit(propagation, h, nameof(propagation))), graph.Mul(graph.Scalar(alpha), h0));
        return graph.Add(graph.Mul(graph.Scalar(1 - Beta), support), graph.Mul(graph.Scalar(Beta), graph.Emit(linear, support, nameof(linear))));
    }
}
