using KnowledgeDistillation.Models;
using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// A graph attention layer (Veličković et al. 2018) with H heads: <c>h = x W</c>, edge score
/// <c>e_uv = LeakyReLU(a_l·h_u + a_r·h_v)</c>, softmax over the in-neighbours u of v, <c>out_v = sum_u a_uv h_u + b</c>.
/// Output [N, H, F]; the caller concatenates or averages heads.
/// </summary>
public sealed class GatConv : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly GraphPropagation propagation;
    private readonly SparseInputLinear linear;
    private readonly Parameter attention_left;
    private readonly Parameter attention_right;
    private readonly Parameter bias;
    private readonly Dropout attention_dropout;
    private readonly long heads;
    private readonly long outFeatures;
    private readonly double negativeSlope;

    /// <summary>Creates the layer; <paramref name="propagation"/> must contain self loops (weights are ignored); <paramref name="inputDropout"/> applies to x.</summary>
    public GatConv(GraphPropagation propagation, long inFeatures, long outFeatures, long heads, double attentionDropout = 0, double negativeSlope = 0.2, double inputDropout = 0, string name = "gat_conv")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(propagation);
        GraphModelChecks.Positive(inFeatures, nameof(inFeatures));
        this.outFeatures = GraphModelChecks.Positive(outFeatures, nameof(outFeatures));
        this.heads = GraphModelChecks.Positive(heads, nameof(heads));
        GraphModelChecks.Probability(attentionDropout, nameof(attentionDropout));
        this.propagation = propagation;
        this.negativeSlope = negativeSlope;
        linear = new SparseInputLinear(inFeatures, heads * outFeatures, hasBias: false, inputDropout, "linear");
        var gain = Math.Sqrt(2.0);
        XavierNormal.Initialize(linear.Weight, gain);
        attention_left = nn.Parameter(empty(1, heads, outFeatures));
        attention_right = nn.Parameter(empty(1, heads, outFeatures));
        XavierNormal.Initialize(attention_left, gain);
        XavierNormal.Initialize(attention_right, gain);
        bias = nn.Parameter(zeros(heads * outFeatures));
        attention_dropout = nn.Dropout(attentionDropout);
        RegisterComponents();
    }

    /// <summary>Linear weight ([H*F, in]).</summary>
    public Tensor Weight => linear.Weight;

    /// <summary>Source-side attention vector a_l ([1, H, F]).</summary>
    public Tensor AttentionLeft => attention_left;

    /// <summary>Target-side attention vector a_r ([1, H, F]).</summary>
    public Tensor AttentionRight => attention_right;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var n = x.shape[0];
        var h = linear.call(x).view(n, heads, outFeatures);
        var left = (h * attention_left).sum(-1);
        var right = (h * attention_right).sum(-1);
        var raw = left.index_select(0, propagation.Source) + right.index_select(0, propagation.Target);
        var scores = raw.clamp_min(0) + (raw.clamp_max(0) * negativeSlope); // LeakyReLU (see Gat: no native Scalar temporaries)
        var alpha = attention_dropout.call(propagation.EdgeSoftmax(scores));
        var flat = h.reshape(n, heads * outFeatures);
        var weights = alpha.repeat_interleave(outFeatures, 1);
        var result = propagation.Propagate(flat, weights) + bias;
        return result.view(n, heads, outFeatures).MoveToOuterDisposeScope();
    }

    /// <summary>Emits the layer as ONNX (opset 18+, see <see cref="GraphPropagation.EmitEdgeSoftmax"/>): output [N, H, F].</summary>
    /// <param name="graph">The graph under construction.</param>
    /// <param name="input">Node features [N, in].</param>
    /// <returns>The layer's output [N, H, F].</returns>
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var n = propagation.NodeCount;
        var edges = propagation.Source.shape[0];
        var h = graph.Node("Reshape", new[] { graph.Emit(linear, input, nameof(linear)), graph.Int64s(n, heads, outFeatures) });
        var left = graph.ReduceSum(graph.Mul(h, graph.Initializer(attention_left, nameof(attention_left))), false, -1);
        var right = graph.ReduceSum(graph.Mul(h, graph.Initializer(attention_right, nameof(attention_right))), false, -1);
        var axis0 = OnnxAttribute.Int("axis", 0);
        var raw = graph.Add(
            graph.Node("Gather", new[] { left, graph.Initializer(propagation.Source, "source") }, axis0),
            graph.Node("Gather", new[] { right, graph.Initializer(propagation.Target, "target") }, axis0));
        var scores = graph.Node("LeakyRelu", new[] { raw }, OnnxAttribute.Float("alpha", negativeSlope));
        var alpha = propagation.EmitEdgeSoftmax(graph, scores, heads); // attention dropout: identity in eval mode
        var flat = graph.Node("Reshape", new[] { h, graph.Int64s(n, heads * outFeatures) });
        var expanded = graph.Node("Expand", new[] { graph.Node("Unsqueeze", new[] { alpha, graph.Int64s(2) }), graph.Int64s(edges, heads, outFeatures) });
        var weights = graph.Node("Reshape", new[] { expanded, graph.Int64s(edges, heads * outFeatures) });
        var result = graph.Add(propagation.EmitPropagate(graph, flat, weights), graph.Initializer(bias, nameof(bias)));
        return graph.Node("Reshape", new[] { result, graph.Int64s(n, heads, outFeatures) });
    }
}
