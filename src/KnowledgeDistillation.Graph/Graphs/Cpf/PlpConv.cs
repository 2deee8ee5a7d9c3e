using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// One CPF layer (the official code reuses it for all K steps): parameterised label propagation mixed with feature
/// transformation, <c>f_v' = ReLU(alpha_v sum_u w_uv f_u + (1 - alpha_v) MLP(x_v))</c>, with
/// <c>w_uv = softmax_{u in N(v)}(c_u)</c> over in-neighbours (self loop included) and <c>alpha_v = sigmoid(a_v)</c>.
/// </summary>
public sealed class PlpConv : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly GraphPropagation propagation;
    private readonly Parameter balance_logit;
    private readonly Parameter? attention;
    private readonly Parameter? node_confidence;
    private readonly Linear mlp1;
    private readonly Linear mlp2;
    private readonly Dropout feature_dropout;
    private readonly Dropout attention_dropout;
    private readonly CpfVariant variant;

    /// <summary>Creates the layer; <paramref name="propagation"/> must contain self loops (its weights are ignored).</summary>
    public PlpConv(GraphPropagation propagation, long inFeatures, long classes, CpfOptions options, string name = "plp")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(propagation);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        GraphModelChecks.Positive(inFeatures, nameof(inFeatures));
        GraphModelChecks.Positive(classes, nameof(classes));
        this.propagation = propagation;
        variant = options.Variant;
        var n = propagation.NodeCount;
        balance_logit = nn.Parameter(zeros(n, 1));
        var gain = Math.Sqrt(2.0);
        if (variant == CpfVariant.Inductive)
        {
            attention = nn.Parameter(empty(1, inFeatures));
            nn.init.xavier_normal_(attention, gain);
        }
        else
        {
            node_confidence = nn.Parameter(empty(n, 1));
            nn.init.xavier_normal_(node_confidence, gain);
        }

        mlp1 = nn.Linear(inFeatures, options.Hidden);
        mlp2 = nn.Linear(options.Hidden, classes);
        feature_dropout = nn.Dropout(options.FeatureDropout);
        attention_dropout = nn.Dropout(options.AttentionDropout);
        RegisterComponents();
    }

    /// <summary>a_v, the per-node balance logits ([N, 1]); alpha_v = sigmoid(a_v).</summary>
    public Parameter BalanceLogit => balance_logit;

    /// <summary>z, the confidence vector of CPF-ind ([1, d]); null for CPF-tra.</summary>
    public Parameter? Attention => attention;

    /// <summary>The per-node confidence scores of CPF-tra ([N, 1]); null for CPF-ind.</summary>
    public Parameter? NodeConfidenceParameter => node_confidence;

    /// <summary>The propagation (edge list with self loops) the layer runs on.</summary>
    public GraphPropagation Propagation => propagation;

    /// <summary>Node confidence scores c_u ([N]) for features <paramref name="x"/> (feature dropout applies in training mode).</summary>
    public Tensor Confidence(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        var c = variant == CpfVariant.Inductive
            ? (feature_dropout.call(x) * attention!).sum(1)
            : feature_dropout.call(node_confidence!).squeeze(1);
        return c.MoveToOuterDisposeScope();
    }

    /// <summary>Propagation weights w_uv ([E], same edge order as <see cref="Propagation"/>), before attention dropout.</summary>
    public Tensor EdgeWeights(Tensor x)
    {
        using var scope = NewDisposeScope();
        return propagation.EdgeSoftmax(Confidence(x).index_select(0, propagation.Source)).MoveToOuterDisposeScope();
    }

    /// <summary>The feature-transformation output MLP(x) ([N, C], logits; Linear-ReLU-Linear with dropout before each Linear).</summary>
    public Tensor Transform(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        var h = nn.functional.relu(mlp1.call(feature_dropout.call(x)));
        return mlp2.call(feature_dropout.call(h)).MoveToOuterDisposeScope();
    }

    /// <summary>One layer: features <paramref name="x"/> [N, d] and current label states <paramref name="labels"/> [N, C] to new states [N, C].</summary>
    public override Tensor forward(Tensor x, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = NewDisposeScope();
        var w = attention_dropout.call(EdgeWeights(x));
        var propagated = propagation.Propagate(labels, w);
        var alpha = balance_logit.sigmoid();
        var mixed = (alpha * propagated) + ((1 - alpha) * Transform(x));
        return nn.functional.relu(mixed).MoveToOuterDisposeScope();
    }
}
