using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>A graph convolution (Kipf and Welling 2017): <c>out = Â x W + b</c> with Â the propagation it is given (usually D^-1/2 (A+I) D^-1/2).</summary>
public sealed class GcnConv : nn.Module<Tensor, Tensor>
{
    private readonly GraphPropagation propagation;
    private readonly Linear linear;
    private readonly Parameter bias;

    /// <summary>Creates the layer over <paramref name="propagation"/>.</summary>
    public GcnConv(GraphPropagation propagation, long inFeatures, long outFeatures, string name = "gcn_conv")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(propagation);
        GraphModelChecks.Positive(inFeatures, nameof(inFeatures));
        GraphModelChecks.Positive(outFeatures, nameof(outFeatures));
        this.propagation = propagation;
        linear = nn.Linear(inFeatures, outFeatures, hasBias: false);
        nn.init.xavier_uniform_(linear.weight);
        bias = nn.Parameter(zeros(outFeatures));
        RegisterComponents();
    }

    /// <summary>The weight W as stored by <c>Linear</c> ([out, in]).</summary>
    public Tensor Weight => linear.weight;

    /// <summary>The bias b ([out]).</summary>
    public Tensor Bias => bias;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return (propagation.call(linear.call(x)) + bias).MoveToOuterDisposeScope();
    }
}
