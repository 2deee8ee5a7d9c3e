using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// A GraphSAGE layer with the mean aggregator (Hamilton et al. 2017):
/// <c>out_v = W_self x_v + W_neigh mean_{u in N(v)} x_u + b</c>. The propagation must be the random-walk
/// normalised adjacency without self loops.
/// </summary>
public sealed class SageConv : nn.Module<Tensor, Tensor>
{
    private readonly GraphPropagation propagation;
    private readonly Linear self_linear;
    private readonly Linear neighbour_linear;

    /// <summary>Creates the layer over a mean-aggregating <paramref name="propagation"/>.</summary>
    public SageConv(GraphPropagation propagation, long inFeatures, long outFeatures, string name = "sage_conv")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(propagation);
        GraphModelChecks.Positive(inFeatures, nameof(inFeatures));
        GraphModelChecks.Positive(outFeatures, nameof(outFeatures));
        this.propagation = propagation;
        self_linear = nn.Linear(inFeatures, outFeatures, hasBias: true);
        neighbour_linear = nn.Linear(inFeatures, outFeatures, hasBias: false);
        RegisterComponents();
    }

    /// <summary>W_self ([out, in]).</summary>
    public Tensor SelfWeight => self_linear.weight;

    /// <summary>W_neigh ([out, in]).</summary>
    public Tensor NeighbourWeight => neighbour_linear.weight;

    /// <summary>The bias b ([out]).</summary>
    public Tensor Bias => self_linear.bias!;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return (self_linear.call(x) + neighbour_linear.call(propagation.call(x))).MoveToOuterDisposeScope();
    }
}
