using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// A graph attention layer (Veličković et al. 2018) with H heads: <c>h = x W</c>, edge score
/// <c>e_uv = LeakyReLU(a_l·h_u + a_r·h_v)</c>, softmax over the in-neighbours u of v, <c>out_v = sum_u a_uv h_u + b</c>.
/// Output [N, H, F]; the caller concatenates or averages heads.
/// </summary>
public sealed class GatConv : nn.Module<Tensor, Tensor>
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
        nn.init.xavier_normal_(linear.Weight, gain);
        attention_left = nn.Parameter(empty(1, heads, outFeatures));
        attention_right = nn.Parameter(empty(1, heads, outFeatures));
        nn.init.xavier_normal_(attention_left, gain);
        nn.init.xavier_normal_(attention_right, gain);
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
}
