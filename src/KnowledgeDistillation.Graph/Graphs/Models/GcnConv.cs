using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>A graph convolution (Kipf and Welling 2017): <c>out = Â dropout(x) W + b</c> with Â the propagation it is given (usually D^-1/2 (A+I) D^-1/2).</summary>
public sealed class GcnConv : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly SparseInputLinear linear;
    private readonly Parameter bias;

    /// <summary>Creates the layer over <paramref name="propagation"/>, with dropout <paramref name="dropout"/> on its input.</summary>
    public GcnConv(GraphPropagation propagation, long inFeatures, long outFeatures, double dropout = 0, string name = "gcn_conv")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(propagation);
        GraphModelChecks.Positive(inFeatures, nameof(inFeatures));
        GraphModelChecks.Positive(outFeatures, nameof(outFeatures));
        this.propagation = propagation;
        linear = new SparseInputLinear(inFeatures, outFeatures, hasBias: false, dropout, "linear");
        nn.init.xavier_uniform_(linear.Weight);
        bias = nn.Parameter(zeros(outFeatures));
        RegisterComponents();
    }

    /// <summary>The weight W as stored by <c>Linear</c> ([out, in]).</summary>
    public Tensor Weight => linear.Weight;

    /// <summary>The bias b ([out]).</summary>
    public Tensor Bias => bias;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return (propagation.call(linear.call(x)) + bias).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var projected = graph.Emit(linear, input, nameof(linear));
        return graph.Add(graph.Emit(propagation, projected, nameof(propagation)), graph.Initializer(bias, nameof(bias)));
    }
}
