namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>How edge weights of a <see cref="GraphAdjacency"/> are normalised.</summary>
public enum AdjacencyNormalization
{
    /// <summary>Raw weights.</summary>
    None,

    /// <summary>Symmetric: w_uv / sqrt(d_u d_v) (GCN's D^-1/2 A D^-1/2).</summary>
    Symmetric,

    /// <summary>Random walk / mean: w_uv / d_v, so each node averages its in-neighbours (D^-1 A).</summary>
    RandomWalk,
}

/// <summary>
/// A sparse graph as an edge list (source, target, weight) with N nodes; message passing sends x_u along u -> v and
/// sums at v, i.e. out = M x with M[v, u] = w_uv. Weights are computed once on the host; models turn the arrays
/// into tensors (buffers, so they follow the module to its device). Nothing here is ever densified except by
/// <see cref="ToDense"/>, which exists for tests and small graphs.
/// </summary>
public sealed class GraphAdjacency
{
    /// <summary>Creates an edge list; sources and targets must be in [0, <paramref name="nodeCount"/>).</summary>
    public GraphAdjacency(long nodeCount, long[] sources, long[] targets, float[] weights)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(weights);
        if (nodeCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(nodeCount), nodeCount, "A graph needs >= 1 node.");
        }

        if (sources.Length != targets.Length || sources.Length != weights.Length)
        {
            throw new ArgumentException(
                $"sources ({sources.Length}), targets ({targets.Length}) and weights ({weights.Length}) must have the same length.", nameof(weights));
        }

        for (var i = 0; i < sources.Length; i++)
        {
            if (sources[i] < 0 || sources[i] >= nodeCount || targets[i] < 0 || targets[i] >= nodeCount)
            {
                throw new ArgumentException($"Edge {i} ({sources[i]} -> {targets[i]}) has a node outside [0, {nodeCount}).", nameof(sources));
            }
        }

        NodeCount = nodeCount;
        Sources = sources;
        Targets = targets;
        Weights = weights;
    }

    /// <summary>Number of nodes.</summary>
    public long NodeCount { get; }

    /// <summary>Source node of each edge.</summary>
    public long[] Sources { get; }

    /// <summary>Target node of each edge.</summary>
    public long[] Targets { get; }

    /// <summary>Weight of each edge.</summary>
    public float[] Weights { get; }

    /// <summary>Number of edges.</summary>
    public int EdgeCount => Sources.Length;

    /// <summary>The edges of a dataset's adjacency matrix (entry (u, v) is an edge u -> v).</summary>
    public static GraphAdjacency FromDataset(GraphDataset graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return FromCsr(graph.Adjacency);
    }

    /// <summary>The edges of a square CSR matrix (entry (u, v) is an edge u -> v with that weight).</summary>
    public static GraphAdjacency FromCsr(CsrMatrix adjacency)
    {
        ArgumentNullException.ThrowIfNull(adjacency);
        if (adjacency.Rows != adjacency.Columns)
        {
            throw new ArgumentException($"An adjacency matrix must be square; got {Guard.FormatShape([adjacency.Rows, adjacency.Columns])}.", nameof(adjacency));
        }

        var entries = adjacency.Entries().ToArray();
        return new GraphAdjacency(adjacency.Rows, entries.Select(e => e.Row).ToArray(), entries.Select(e => e.Column).ToArray(), entries.Select(e => e.Value).ToArray());
    }

    /// <summary>This graph with a self loop of weight 1 on every node that has none (A + I on the diagonal).</summary>
    public GraphAdjacency WithSelfLoops()
    {
        var hasLoop = new bool[NodeCount];
        for (var i = 0; i < EdgeCount; i++)
        {
            if (Sources[i] == Targets[i])
            {
                hasLoop[Sources[i]] = true;
            }
        }

        var missing = Enumerable.Range(0, (int)NodeCount).Where(i => !hasLoop[i]).Select(i => (long)i).ToArray();
        return new GraphAdjacency(
            NodeCount,
            Sources.Concat(missing).ToArray(),
            Targets.Concat(missing).ToArray(),
            Weights.Concat(missing.Select(_ => 1f)).ToArray());
    }

    /// <summary>This graph with self loops removed.</summary>
    public GraphAdjacency WithoutSelfLoops()
    {
        var keep = Enumerable.Range(0, EdgeCount).Where(i => Sources[i] != Targets[i]).ToArray();
        return new GraphAdjacency(NodeCount, keep.Select(i => Sources[i]).ToArray(), keep.Select(i => Targets[i]).ToArray(), keep.Select(i => Weights[i]).ToArray());
    }

    /// <summary>Weighted in-degree of every node (sum of the weights of edges into it).</summary>
    public double[] InDegrees()
    {
        var degrees = new double[NodeCount];
        for (var i = 0; i < EdgeCount; i++)
        {
            degrees[Targets[i]] += Weights[i];
        }

        return degrees;
    }

    /// <summary>
    /// This graph with normalised weights. Degrees are weighted in-degrees (equal to out-degrees on an undirected
    /// graph); a node of degree 0 keeps weight 0 on its (absent) edges. Add self loops first for GCN's renormalisation.
    /// </summary>
    public GraphAdjacency Normalize(AdjacencyNormalization normalization)
    {
        var degrees = InDegrees();
        var weights = new float[EdgeCount];
        for (var i = 0; i < EdgeCount; i++)
        {
            double du = degrees[Sources[i]], dv = degrees[Targets[i]];
            weights[i] = normalization switch
            {
                AdjacencyNormalization.None => Weights[i],
                AdjacencyNormalization.Symmetric => du > 0 && dv > 0 ? (float)(Weights[i] / Math.Sqrt(du * dv)) : 0f,
                AdjacencyNormalization.RandomWalk => dv > 0 ? (float)(Weights[i] / dv) : 0f,
                _ => throw new ArgumentOutOfRangeException(nameof(normalization), normalization, "Unknown normalisation."),
            };
        }

        return new GraphAdjacency(NodeCount, Sources, Targets, weights);
    }

    /// <summary>The dense propagation matrix M (N x N, row-major) with M[v, u] = w_uv, so that out = M x. For tests and small graphs.</summary>
    public float[,] ToDense()
    {
        var dense = new float[NodeCount, NodeCount];
        for (var i = 0; i < EdgeCount; i++)
        {
            dense[Targets[i], Sources[i]] += Weights[i];
        }

        return dense;
    }
}
