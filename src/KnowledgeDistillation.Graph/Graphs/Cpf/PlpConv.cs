using KnowledgeDistillation.Models;
using KnowledgeDistillation.Onnx;
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
    private readonly SparseInputLinear? attention;
    private readonly Parameter? node_confidence;
    private readonly SparseInputLinear mlp1;
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
            attention = new SparseInputLinear(inFeatures, 1, hasBias: false, options.FeatureDropout, "attention");
            XavierNormal.Initialize(attention.Weight, gain);
        }
        else
        {
            node_confidence = nn.Parameter(empty(n, 1));
            XavierNormal.Initialize(node_confidence, gain);
        }

        mlp1 = new SparseInputLinear(inFeatures, options.Hidden, hasBias: true, options.FeatureDropout, "mlp1");
        mlp2 = nn.Linear(options.Hidden, classes);
        feature_dropout = nn.Dropout(options.FeatureDropout);
        attention_dropout = nn.Dropout(options.AttentionDropout);
        RegisterComponents();
    }

    /// <summary>a_v, the per-node balance logits ([N, 1]); alpha_v = sigmoid(a_v).</summary>
    public Parameter BalanceLogit => balance_logit;

    /// <summary>z, the confidence vector of CPF-ind ([1, d]); null for CPF-tra.</summary>
    public Parameter? Attention => attention?.Weight;

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
            ? attention!.call(x).squeeze(1)
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
        var h = nn.functional.relu(mlp1.call(x));
        return mlp2.call(feature_dropout.call(h)).MoveToOuterDisposeScope();
    }

    /// <summary>One layer: features <paramref name="x"/> [N, d] and current label states <paramref name="labels"/> [N, C] to new states [N, C].</summary>
    public override Tensor forward(Tensor x, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(x);
        using var scope = NewDisposeScope();
        return Step(labels, EdgeWeights(x), Transform(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One layer from precomputed edge weights <paramref name="edgeWeights"/> [E] and MLP output
    /// <paramref name="transformed"/> [N, C]: <c>ReLU(alpha * (dropout(w) propagation of labels) + (1 - alpha) * transformed)</c>.
    /// Attention dropout is drawn anew on every call.
    /// </summary>
    public Tensor Step(Tensor labels, Tensor edgeWeights, Tensor transformed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(edgeWeights);
        ArgumentNullException.ThrowIfNull(transformed);
        using var scope = NewDisposeScope();
        var propagated = propagation.Propagate(labels, attention_dropout.call(edgeWeights));
        var alpha = balance_logit.sigmoid();
        var mixed = (alpha * propagated) + ((1 - alpha) * transformed);
        return nn.functional.relu(mixed).MoveToOuterDisposeScope();
    }

    /// <summary>Emits <see cref="EdgeWeights"/> as ONNX (eval mode): the per-target softmax of the source nodes' confidences, [E, 1].</summary>
    /// <param name="graph">The graph under construction (opset 18+).</param>
    /// <param name="x">Node features [N, F].</param>
    /// <returns>The edge weights [E, 1].</returns>
    public OnnxValue EmitEdgeWeights(OnnxGraphBuilder graph, OnnxValue x)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var confidence = variant == CpfVariant.Inductive
            ? graph.Emit(attention!, x, nameof(attention))
            : graph.Initializer(node_confidence!, nameof(node_confidence)); // feature dropout: identity in eval mode
        var scores = graph.Node("Gather", new[] { confidence, graph.Initializer(propagation.Source, "source") }, OnnxAttribute.Int("axis", 0));
        return propagation.EmitEdgeSoftmax(graph, scores, 1);
    }

    /// <summary>Emits <see cref="Transform"/> as ONNX (eval mode): the feature MLP, [N, classes].</summary>
    /// <param name="graph">The graph under construction.</param>
    /// <param name="x">Node features [N, F].</param>
    /// <returns>The transformed features [N, classes].</returns>
    public OnnxValue EmitTransform(OnnxGraphBuilder graph, OnnxValue x)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Emit(mlp2, graph.Relu(graph.Emit(mlp1, x, nameof(mlp1))), nameof(mlp2));
    }

    /// <summary>Emits <see cref="Step"/> as ONNX (eval mode).</summary>
    /// <param name="graph">The graph under construction.</param>
    /// <param name="labels">The current label distribution [N, classes].</param>
    /// <param name="edgeWeights">Edge weights [E, 1] from <see cref="EmitEdgeWeights"/>.</param>
    /// <param name="transformed">The MLP output from <see cref="EmitTransform"/>.</param>
    /// <returns>The next label distribution [N, classes].</returns>
    public OnnxValue EmitStep(OnnxGraphBuilder graph, OnnxValue labels, OnnxValue edgeWeights, OnnxValue transformed)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var propagated = propagation.EmitPropagate(graph, labels, edgeWeights);
        var alpha = graph.Node("Sigmoid", new[] { graph.Initializer(balance_logit, nameof(balance_logit)) });
        var mixed = graph.Add(graph.Mul(alpha, propagated), graph.Mul(graph.Sub(graph.Scalar(1), alpha), transformed));
        return graph.Relu(mixed);
    }
}
