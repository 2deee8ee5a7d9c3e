using KnowledgeDistillation.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// Sparse message passing over a fixed <see cref="GraphAdjacency"/>: <c>out[v] = sum_u w_uv x[u]</c>, computed on the
/// edge list with <c>index_select</c> + <c>index_add</c> (never a dense N x N matrix). The edge arrays are buffers, so
/// they move with the module to its device.
/// </summary>
public sealed class GraphPropagation : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Tensor source;
    private readonly Tensor target;
    private readonly Tensor weight;
    private readonly long[] hostTargets;
    private double[] scoreBuffer = Array.Empty<double>();
    private double[] maxBuffer = Array.Empty<double>();

    /// <summary>Wraps <paramref name="adjacency"/> (already normalised as the model needs).</summary>
    public GraphPropagation(GraphAdjacency adjacency, string name = "propagation")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(adjacency);
        NodeCount = adjacency.NodeCount;
        source = tensor(adjacency.Sources);
        target = tensor(adjacency.Targets);
        weight = tensor(adjacency.Weights);
        hostTargets = adjacency.Targets;
        RegisterComponents();
    }

    /// <summary>Number of nodes.</summary>
    public long NodeCount { get; }

    /// <summary>Source node of every edge (int64 [E]).</summary>
    public Tensor Source => source;

    /// <summary>Target node of every edge (int64 [E]).</summary>
    public Tensor Target => target;

    /// <summary>Weight of every edge (float32 [E]).</summary>
    public Tensor Weight => weight;

    /// <summary>Propagates node states <paramref name="x"/> ([N, F]) with the stored weights.</summary>
    public override Tensor forward(Tensor x) => Propagate(x, weight);

    /// <summary>Propagates <paramref name="x"/> ([N, F]) with per-edge weights <paramref name="edgeWeights"/> ([E] or [E, F]).</summary>
    public Tensor Propagate(Tensor x, Tensor edgeWeights)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(edgeWeights);
        if (x.dim() != 2 || x.shape[0] != NodeCount)
        {
            throw new ArgumentException($"Node states must have shape [{NodeCount}, features]; got {Guard.Shape(x)}.", nameof(x));
        }

        using var scope = NewDisposeScope();
        var messages = x.index_select(0, source);
        var w = edgeWeights.dim() == 1 ? edgeWeights.unsqueeze(1) : edgeWeights;
        var result = zeros(new[] { NodeCount, x.shape[1] }, x.dtype, x.device).index_add(0, target, messages * w, 1);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Softmax of edge scores over the incoming edges of each target node: <c>exp(s_e) / sum_{e' -> v} exp(s_e')</c>.
    /// <paramref name="scores"/> is [E] or [E, H] (H heads). For stability each target's maximum score (a constant,
    /// without gradient) is subtracted first, computed on the host in one pass over the edges (TorchSharp 0.107 has no
    /// scatter_reduce), so the result is exact even when segments differ by hundreds.
    /// </summary>
    public Tensor EdgeSoftmax(Tensor scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.dim() is < 1 or > 2 || scores.shape[0] != source.shape[0])
        {
            throw new ArgumentException($"Edge scores must have shape [{source.shape[0]}] or [{source.shape[0]}, heads]; got {Guard.Shape(scores)}.", nameof(scores));
        }

        using var scope = NewDisposeScope();
        var s = scores.dim() == 1 ? scores.unsqueeze(1) : scores;
        var e = (s - SegmentMax(s).index_select(0, target)).exp();
        var denominator = zeros(new[] { NodeCount, s.shape[1] }, s.dtype, s.device).index_add(0, target, e, 1);
        var result = e / denominator.index_select(0, target);
        return (scores.dim() == 1 ? result.squeeze(1) : result).MoveToOuterDisposeScope();
    }

    private Tensor SegmentMax(Tensor scores)
    {
        // Host buffers are reused across calls: a fresh large array per call lands on the large-object heap and triggers
        // frequent background (gen 2) collections, which exposes TorchSharp 0.107's finalizer race on temporary Scalars.
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var heads = (int)scores.shape[1];
        var edges = hostTargets.Length;
        if (scoreBuffer.Length < edges * heads)
        {
            scoreBuffer = new double[edges * heads];
        }

        if (maxBuffer.Length < NodeCount * heads)
        {
            maxBuffer = new double[NodeCount * heads];
        }

        scores.detach().to(ScalarType.Float64).cpu().contiguous().data<double>().CopyTo(scoreBuffer.AsSpan(0, edges * heads));
        var max = maxBuffer.AsSpan(0, (int)NodeCount * heads);
        max.Fill(double.NegativeInfinity);
        for (var i = 0; i < edges; i++)
        {
            var row = (int)hostTargets[i] * heads;
            for (var h = 0; h < heads; h++)
            {
                max[row + h] = Math.Max(max[row + h], scoreBuffer[(i * heads) + h]);
            }
        }

        for (var i = 0; i < max.Length; i++)
        {
            if (double.IsNegativeInfinity(max[i]))
            {
                max[i] = 0;
            }
        }

        var result = empty(new[] { NodeCount, (long)heads }, ScalarType.Float64);
        result.data<double>().CopyFrom(max);
        return result.to(scores.dtype, scores.device).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Emits the propagation with the stored weights as ONNX (opset 16+): <c>Gather</c> of the source rows, scaled by the
    /// edge weights, summed into the targets by <c>ScatterND</c> (reduction add). The edge lists are constants of the
    /// model, so the exported graph only accepts this graph's node count.
    /// </summary>
    /// <param name="graph">The graph under construction.</param>
    /// <param name="input">Node states [N, F].</param>
    /// <returns>The propagated states [N, F].</returns>
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return EmitPropagate(graph, input, graph.Node("Unsqueeze", new[] { graph.Initializer(weight, "weight"), graph.Int64s(1) }));
    }

    /// <summary>Emits <see cref="Propagate"/>: node states <paramref name="x"/> ([N, F]) with per-edge weights ([E, 1] or [E, F]).</summary>
    /// <param name="graph">The graph under construction.</param>
    /// <param name="x">Node states [N, F].</param>
    /// <param name="edgeWeights">Edge weights [E, 1] or [E, F].</param>
    /// <returns>The propagated states [N, F].</returns>
    public OnnxValue EmitPropagate(OnnxGraphBuilder graph, OnnxValue x, OnnxValue edgeWeights)
    {
        ArgumentNullException.ThrowIfNull(graph);
        RequireFixedGraph(graph);
        var messages = graph.Mul(graph.Node("Gather", new[] { x, graph.Initializer(source, "source") }, OnnxAttribute.Int("axis", 0)), edgeWeights);
        var zeros = graph.Node("ConstantOfShape", new[] { graph.Node("Shape", new[] { x }) });
        return graph.Node("ScatterND", new[] { zeros, TargetIndex(graph), messages }, OnnxAttribute.String("reduction", "add"));
    }

    /// <summary>
    /// Emits <see cref="EdgeSoftmax"/> for scores [E, <paramref name="heads"/>] (opset 18+: the per-target maximum is a
    /// <c>ScatterND</c> with reduction max, subtracted before the exponential exactly as in <see cref="EdgeSoftmax"/>).
    /// </summary>
    /// <param name="graph">The graph under construction.</param>
    /// <param name="scores">Edge scores [E, heads].</param>
    /// <param name="heads">The number of score columns.</param>
    /// <returns>Per-edge softmax weights [E, heads].</returns>
    public OnnxValue EmitEdgeSoftmax(OnnxGraphBuilder graph, OnnxValue scores, long heads)
    {
        ArgumentNullException.ThrowIfNull(graph);
        graph.RequireOpset(18, "ScatterND with reduction 'max' (the edge softmax)", this);
        RequireFixedGraph(graph);
        var nodeShape = graph.Int64s(NodeCount, heads);
        var target = graph.Initializer(this.target, "target");
        var lowest = graph.Node("Expand", new[] { graph.Scalar(float.NegativeInfinity), nodeShape });
        var max = graph.Node("ScatterND", new[] { lowest, TargetIndex(graph), scores }, OnnxAttribute.String("reduction", "max"));
        var gatherAxis0 = OnnxAttribute.Int("axis", 0);
        var e = graph.Node("Exp", new[] { graph.Sub(scores, graph.Node("Gather", new[] { max, target }, gatherAxis0)) });
        var zeros = graph.Node("ConstantOfShape", new[] { nodeShape });
        var denominator = graph.Node("ScatterND", new[] { zeros, TargetIndex(graph), e }, OnnxAttribute.String("reduction", "add"));
        return graph.Node("Div", new[] { e, graph.Node("Gather", new[] { denominator, target }, gatherAxis0) });
    }

    private OnnxValue TargetIndex(OnnxGraphBuilder graph) =>
        graph.Node("Unsqueeze", new[] { graph.Initializer(target, "target"), graph.Int64s(1) });

    private void RequireFixedGraph(OnnxGraphBuilder graph) =>
        graph.RequireStaticInputShape($"the edge lists of the {NodeCount}-node graph are constants of the model, so the input must have exactly {NodeCount} rows.");
}
