using KnowledgeDistillation.Graph.Graphs;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// LightGCN (He et al. 2020, "LightGCN: Simplifying and Powering Graph Convolution Network for Recommendation", SIGIR):
/// ego embeddings E⁰ of users and items are propagated over the user-item graph with the symmetric normalisation
/// <c>1/sqrt(|N_u| |N_i|)</c>, <c>E^{l+1} = Â E^l</c>, and the final tables are the mean of E⁰..E^L. Propagation is the
/// graph package's sparse <see cref="GraphPropagation"/> (index_select + index_add over the edge list).
/// </summary>
public sealed class LightGcn : RecommenderModel
{
    private readonly Parameter embedding;
    private readonly GraphPropagation propagation;

    /// <summary>Creates the model over a split's training interactions.</summary>
    /// <param name="split">The split (its training pairs are the graph's edges).</param>
    /// <param name="dimension">Embedding width, &gt;= 1.</param>
    /// <param name="layers">Propagation layers L, &gt;= 0 (LightGCN: 3; 0 = matrix factorisation).</param>
    /// <param name="initStd">Standard deviation of the normal initialisation, &gt; 0 (LightGCN: 0.1).</param>
    /// <param name="name">Module name.</param>
    public LightGcn(InteractionSplit split, int dimension, int layers = 3, double initStd = 0.1, string name = "lightgcn")
        : base(name, Check(split).UserCount, split.ItemCount, dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        Guard.Positive(initStd, nameof(initStd));
        Layers = layers;
        embedding = new Parameter(randn(split.UserCount + split.ItemCount, dimension) * initStd);
        propagation = new GraphPropagation(Adjacency(split), "propagation");
        RegisterComponents();
    }

    /// <summary>Propagation layers.</summary>
    public int Layers { get; }

    /// <summary>The ego embeddings E⁰ [U + I, d] (users first).</summary>
    public Parameter EgoEmbeddings => embedding;

    /// <summary>The normalised user-item graph (users are nodes 0..U-1, items U..U+I-1; both edge directions).</summary>
    /// <param name="split">The split.</param>
    public static GraphAdjacency Adjacency(InteractionSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        var sources = new long[2 * split.TrainCount];
        var targets = new long[2 * split.TrainCount];
        var k = 0;
        for (var u = 0; u < split.UserCount; u++)
        {
            foreach (var i in split.TrainItems[u])
            {
                sources[k] = u;
                targets[k++] = split.UserCount + i;
                sources[k] = split.UserCount + i;
                targets[k++] = u;
            }
        }
        var weights = Enumerable.Repeat(1f, sources.Length).ToArray();
        return new GraphAdjacency(split.UserCount + split.ItemCount, sources, targets, weights).Normalize(AdjacencyNormalization.Symmetric);
    }

    /// <inheritdoc />
    public override (Tensor Users, Tensor Items) Embeddings()
    {
        using var scope = NewDisposeScope();
        var x = (Tensor)embedding;
        var sum = x;
        for (var l = 0; l < Layers; l++)
        {
            x = propagation.call(x);
            sum = sum + x;
        }
        var final = sum / (Layers + 1);
        var users = final.narrow(0, 0, UserCount);
        var items = final.narrow(0, UserCount, ItemCount);
        return (users.MoveToOuterDisposeScope(), items.MoveToOuterDisposeScope());
    }

    private static InteractionSplit Check(InteractionSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        return split;
    }
}
