using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// A GraphSAGE layer with the mean aggregator (Hamilton et al. 2017):
/// <c>out_v = W_self x_v + W_neigh mean_{u in N(v)} x_u + b</c> (x after dropout). The propagation must be the
/// random-walk normalised adjacency without self loops. Computed as <c>[W_self; W_neigh] x</c> first and the mean of
/// the projected neighbours second (equal by linearity, and cheap on sparse features).
/// </summary>
public sealed class SageConv : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly SparseInputLinear linear;
    private readonly Parameter bias;
    private readonly long outFeatures;

    /// <summary>Creates the layer over a mean-aggregating <paramref name="propagation"/>, with dropout <paramref name="dropout"/> on its input.</summary>
    public SageConv(GraphPropagation propagation, long inFeatures, long outFeatures, double dropout = 0, string name = "sage_conv")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(propagation);
        GraphModelChecks.Positive(inFeatures, nameof(inFeatures));
        this.outFeatures = GraphModelChecks.Positive(outFeatures, nameof(outFeatures));
        this.propagation = propagation;
        linear = new SparseInputLinear(inFeatures, 2 * outFeatures, hasBias: false, dropout, "linear");
        var bound = 1.0 / Math.Sqrt(inFeatures);
        bias = nn.Parameter(empty(outFeatures).uniform_(-bound, bound));
        RegisterComponents();
    }

    /// <summary>W_self ([out, in]).</summary>
    public Tensor SelfWeight => linear.Weight[..(int)outFeatures];

    /// <summary>W_neigh ([out, in]).</summary>
    public Tensor NeighbourWeight => linear.Weight[(int)outFeatures..];

    /// <summary>The bias b ([out]).</summary>
    public Tensor Bias => bias;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var projected = linear.call(x);
        var self = projected[.., ..(int)outFeatures];
        var neighbours = projected[.., (int)outFeatures..].contiguous();
        return (self + propagation.call(neighbours) + bias).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var projected = graph.Emit(linear, input, nameof(linear));
        var self = graph.Slice(projected, 1, 0, outFeatures);
        var neighbours = graph.Slice(projected, 1, outFeatures, 2 * outFeatures);
        return graph.Add(graph.Add(self, graph.Emit(propagation, neighbours, nameof(propagation))), graph.Initializer(bias, nameof(bias)));
    }
}
