using KnowledgeDistillation.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// The CPF student (Yang, Liu and Shi, WWW 2021): K steps of one shared <see cref="PlpConv"/> starting from
/// one-hot labels on the labelled nodes and uniform 1/C elsewhere; labelled rows are reset to their one-hot label
/// after every step (the official code's clamping). Returns f^K ([N, C]); softmax(f^K) is the prediction.
/// The learned balance and confidences are exposed for interpretation (<see cref="Balance"/>,
/// <see cref="NodeConfidence"/>, <see cref="EdgeWeights"/>).
/// </summary>
public sealed class CpfStudent : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly PlpConv plp;
    private readonly Tensor label_init;
    private readonly Tensor labeled;
    private readonly Tensor labeled_one_hot;
    private readonly long inFeatures;

    /// <summary>
    /// Creates the student for <paramref name="graph"/> (self loops are added; their weights are ignored), labels
    /// <paramref name="labels"/> [N] (int64) of which only the nodes in <paramref name="labeledNodes"/> are used.
    /// </summary>
    public CpfStudent(GraphAdjacency graph, long inFeatures, int classes, Tensor labels, IReadOnlyCollection<long> labeledNodes, CpfOptions? options = null)
        : base("cpf")
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(labeledNodes);
        Options = options ?? new CpfOptions();
        Options.Validate();
        var n = graph.NodeCount;
        if (labels.dim() != 1 || labels.shape[0] != n || labels.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"Labels must be int64 of shape [{n}]; got {labels.dtype} {Guard.Shape(labels)}.", nameof(labels));
        }

        if (classes < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "CPF needs >= 2 classes.");
        }

        if (labeledNodes.Count == 0 || labeledNodes.Any(i => i < 0 || i >= n))
        {
            throw new ArgumentException($"labeledNodes must be a non-empty set of node indices in [0, {n}).", nameof(labeledNodes));
        }

        this.inFeatures = inFeatures;
        plp = new PlpConv(new GraphPropagation(graph.WithSelfLoops()), inFeatures, classes, Options);
        using (var scope = NewDisposeScope())
        {
            var mask = zeros(n, 1);
            mask.index_fill_(0, tensor(labeledNodes.ToArray()), 1);
            var oneHot = nn.functional.one_hot(labels.clamp(0, classes - 1), classes).to(ScalarType.Float32) * mask;
            labeled = mask.MoveToOuterDisposeScope();
            labeled_one_hot = oneHot.MoveToOuterDisposeScope();
            label_init = ((ones(n, classes) / classes * (1 - mask)) + oneHot).MoveToOuterDisposeScope();
        }

        RegisterComponents();
    }

    /// <summary>The hyper-parameters.</summary>
    public CpfOptions Options { get; }

    /// <summary>The shared propagation layer.</summary>
    public PlpConv Layer => plp;

    /// <summary>Initial label states f^0 ([N, C]).</summary>
    public Tensor LabelInit => label_init;

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        GraphModelChecks.Features(x, plp.Propagation.NodeCount, inFeatures, "The CPF student");
        using var scope = NewDisposeScope();
        // Edge weights and the MLP output are computed once per forward and shared by the K steps (one feature-dropout
        // mask per step of training); the official code recomputes them in every step with fresh dropout masks, which
        // is identical in eval mode and K times more expensive in training.
        var weights = plp.EdgeWeights(x);
        var transformed = plp.Transform(x);
        var h = label_init;
        for (var k = 0; k < Options.Layers; k++)
        {
            h = (plp.Step(h, weights, transformed) * (1 - labeled)) + labeled_one_hot;
        }

        return h.MoveToOuterDisposeScope();
    }

    /// <summary>alpha_v = sigmoid(a_v) per node ([N]): the weight of label propagation vs. feature transformation (1 = pure propagation).</summary>
    public Tensor Balance()
    {
        using var noGrad = no_grad();
        return plp.BalanceLogit.sigmoid().squeeze(1);
    }

    /// <summary>Node confidences c_u ([N]) as used for propagation, computed in eval mode (no dropout).</summary>
    public Tensor NodeConfidence(Tensor x) => Inspect(() => plp.Confidence(x));

    /// <summary>
    /// The learned propagation weights: (source, target, w_uv) per edge (self loops included), in eval mode; w sums to 1
    /// over the in-edges of each target, so it says how much each neighbour u contributed to node v's label.
    /// </summary>
    public (Tensor Source, Tensor Target, Tensor Weight) EdgeWeights(Tensor x)
    {
        var weight = Inspect(() => plp.EdgeWeights(x));
        return (plp.Propagation.Source.clone(), plp.Propagation.Target.clone(), weight);
    }

    private Tensor Inspect(Func<Tensor> compute)
    {
        var wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            return compute();
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>
    /// Emits the eval-mode forward as ONNX (opset 18+; the input must be exactly this graph's [nodes, features], so export
    /// with <c>DynamicBatch = false</c>): edge weights and the feature MLP once, then the K propagation steps with the
    /// labelled rows clamped to their one-hot labels (stored in the model as constants).
    /// </summary>
    /// <param name="graph">The graph under construction.</param>
    /// <param name="input">Node features [N, F].</param>
    /// <returns>The label distributions [N, classes].</returns>
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        using var scope = graph.Scope(nameof(plp));
        var weights = plp.EmitEdgeWeights(graph, input);
        var transformed = plp.EmitTransform(graph, input);
        var unlabeled = graph.Sub(graph.Scalar(1), graph.Initializer(labeled, nameof(labeled)));
        var clamped = graph.Initializer(labeled_one_hot, nameof(labeled_one_hot));
        var h = graph.Initializer(label_init, nameof(label_init));
        for (var k = 0; k < Options.Layers; k++)
        {
            h = graph.Add(graph.Mul(plp.EmitStep(graph, h, weights, transformed), unlabeled), clamped);
        }

        return h;
    }
}
