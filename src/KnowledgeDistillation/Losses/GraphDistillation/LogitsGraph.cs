using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The edges of Zhang and Peng's logits graph over K teachers: one weight per unordered pair of teachers, self-loops included
/// (<c>K (K + 1) / 2</c> edges), normalised with a softmax over the edges, <c>w = softmax(θ)</c>. A vertex's importance is its
/// share of the edge mass, <c>π_i = w_ii + ½ Σ_{j≠i} w_ij</c> (so <c>Σ_i π_i = 1</c>). θ starts at 0 (every teacher equal) and is
/// trained with the student when <see cref="Learned"/>; otherwise it stays 0 and the graph is the plain average.
/// </summary>
/// <remarks>
/// The self-loops are this library's choice: without them two teachers have one edge and the weights could not move.
/// </remarks>
public sealed class LogitsGraph : nn.Module
{
    private readonly Parameter edge_logits;
    private readonly Tensor incidence;

    /// <summary>Creates the graph.</summary>
    /// <param name="teachers">The number of teachers K, &gt;= 2.</param>
    /// <param name="learned">Whether the edge weights are trained (default true).</param>
    /// <exception cref="ArgumentOutOfRangeException">K &lt; 2.</exception>
    public LogitsGraph(int teachers, bool learned = true)
        : base(nameof(LogitsGraph))
    {
        Teachers = teachers >= 2 ? teachers : throw new ArgumentOutOfRangeException(nameof(teachers), teachers, "A logits graph needs at least two teachers.");
        Learned = learned;
        var edges = Edges(teachers);
        var shares = new float[teachers * edges.Count];
        for (var e = 0; e < edges.Count; e++)
        {
            var (i, j) = edges[e];
            shares[(i * edges.Count) + e] += i == j ? 1f : 0.5f;
            if (i != j)
            {
                shares[(j * edges.Count) + e] += 0.5f;
            }
        }

        edge_logits = new Parameter(zeros(edges.Count), requires_grad: learned);
        incidence = tensor(shares, new long[] { teachers, edges.Count });
        RegisterComponents();
    }

    /// <summary>The number of teachers K.</summary>
    public int Teachers { get; }

    /// <summary>Whether the edge weights are trained.</summary>
    public bool Learned { get; }

    /// <summary>The edge logits θ [K (K + 1) / 2], in the order of <see cref="Edges"/>.</summary>
    public Tensor EdgeLogits => edge_logits;

    /// <summary>The teacher pairs (i ≤ j) of the edges, in order: (0,0), (0,1), ..., (0,K−1), (1,1), ...</summary>
    /// <param name="teachers">The number of teachers.</param>
    public static IReadOnlyList<(int I, int J)> Edges(int teachers)
    {
        var edges = new List<(int, int)>();
        for (var i = 0; i < teachers; i++)
        {
            for (var j = i; j < teachers; j++)
            {
                edges.Add((i, j));
            }
        }

        return edges;
    }

    /// <summary>The normalised edge weights <c>softmax(θ)</c> [K (K + 1) / 2].</summary>
    public Tensor EdgeWeights() => nn.functional.softmax(edge_logits, 0);

    /// <summary>The vertex importances <c>π</c> [K] (summing to 1).</summary>
    public Tensor VertexWeights() => incidence.matmul(EdgeWeights());

    /// <summary>The entropy of the edge weights, <c>−Σ_e w_e log w_e</c> (for the optional anti-collapse regulariser).</summary>
    public Tensor EdgeEntropy() => EdgeWeightEntropy.Of(edge_logits);
}
