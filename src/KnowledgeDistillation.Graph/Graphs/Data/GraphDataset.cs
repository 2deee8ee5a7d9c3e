using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// A node-classification graph: adjacency (CSR), node features (CSR), one class label per node, and optional node and
/// class names. Read one with <see cref="NpzGraphReader"/>; <see cref="Standardize"/> prepares it as CPF does.
/// </summary>
public sealed class GraphDataset
{
    /// <summary>Creates a dataset and checks that adjacency, features and labels agree on the node count.</summary>
    public GraphDataset(CsrMatrix adjacency, CsrMatrix features, long[] labels, string[]? nodeNames = null, string[]? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(adjacency);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (adjacency.Rows != adjacency.Columns)
        {
            throw new ArgumentException($"The adjacency matrix must be square; got {Guard.FormatShape([adjacency.Rows, adjacency.Columns])}.", nameof(adjacency));
        }

        if (features.Rows != adjacency.Rows)
        {
            throw new ArgumentException($"Features have {features.Rows} rows but the graph has {adjacency.Rows} nodes.", nameof(features));
        }

        if (labels.LongLength != adjacency.Rows)
        {
            throw new ArgumentException($"There are {labels.LongLength} labels but the graph has {adjacency.Rows} nodes.", nameof(labels));
        }

        if (labels.Any(l => l < 0))
        {
            throw new ArgumentException("Labels must be class indices >= 0.", nameof(labels));
        }

        if (nodeNames is not null && nodeNames.LongLength != adjacency.Rows)
        {
            throw new ArgumentException($"There are {nodeNames.LongLength} node names but {adjacency.Rows} nodes.", nameof(nodeNames));
        }

        Adjacency = adjacency;
        Features = features;
        Labels = labels;
        NodeNames = nodeNames;
        ClassCount = labels.Length == 0 ? 0 : (int)labels.Max() + 1;
        if (classNames is not null && classNames.Length < ClassCount)
        {
            throw new ArgumentException($"There are {classNames.Length} class names but labels go up to {ClassCount - 1}.", nameof(classNames));
        }

        ClassNames = classNames;
    }

    /// <summary>Adjacency matrix: entry (u, v) is an edge from u to v.</summary>
    public CsrMatrix Adjacency { get; }

    /// <summary>Node features (nodes x features).</summary>
    public CsrMatrix Features { get; }

    /// <summary>Class index of every node.</summary>
    public long[] Labels { get; }

    /// <summary>Node names, when the file has them.</summary>
    public string[]? NodeNames { get; }

    /// <summary>Class names, when the file has them.</summary>
    public string[]? ClassNames { get; }

    /// <summary>Number of nodes.</summary>
    public long NodeCount => Adjacency.Rows;

    /// <summary>Number of features per node.</summary>
    public long FeatureCount => Features.Columns;

    /// <summary>Number of classes (largest label + 1).</summary>
    public int ClassCount { get; }

    /// <summary>The node features as a dense float32 tensor of shape [nodes, features] on the CPU.</summary>
    public Tensor FeatureTensor() => tensor(Features.ToDense(), new[] { NodeCount, FeatureCount });

    /// <summary>The labels as an int64 tensor of shape [nodes] on the CPU.</summary>
    public Tensor LabelTensor() => tensor(Labels);

    /// <summary>
    /// The graph as CPF and Shchur et al.'s gnn-benchmark prepare it: undirected (A + A^T), unweighted, without self
    /// loops, restricted to its largest connected component (node order kept).
    /// </summary>
    public GraphDataset Standardize()
    {
        var n = NodeCount;
        var entries = new HashSet<(long, long)>();
        foreach (var (r, c, v) in Adjacency.Entries())
        {
            if (r != c && v != 0)
            {
                entries.Add((r, c));
                entries.Add((c, r));
            }
        }

        var symmetric = CsrMatrix.FromEntries(n, n, entries.Select(e => (e.Item1, e.Item2, 1f)));
        var keep = LargestComponent(symmetric);
        return Subgraph(symmetric, keep);
    }

    /// <summary>The nodes of the largest connected component (ties: the one containing the lowest node), ascending.</summary>
    internal static long[] LargestComponent(CsrMatrix adjacency)
    {
        var n = adjacency.Rows;
        var component = Enumerable.Repeat(-1L, checked((int)n)).ToArray();
        var sizes = new List<long>();
        var stack = new Stack<long>();
        for (long start = 0; start < n; start++)
        {
            if (component[start] >= 0)
            {
                continue;
            }

            var id = sizes.Count;
            sizes.Add(0);
            component[start] = id;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var u = stack.Pop();
                sizes[id]++;
                for (var k = adjacency.RowPointers[u]; k < adjacency.RowPointers[u + 1]; k++)
                {
                    var v = adjacency.ColumnIndices[k];
                    if (component[v] < 0)
                    {
                        component[v] = id;
                        stack.Push(v);
                    }
                }
            }
        }

        if (sizes.Count == 0)
        {
            return Array.Empty<long>();
        }

        var best = sizes.IndexOf(sizes.Max());
        return Enumerable.Range(0, (int)n).Where(i => component[i] == best).Select(i => (long)i).ToArray();
    }

    private GraphDataset Subgraph(CsrMatrix adjacency, long[] keep)
    {
        var map = new Dictionary<long, long>(keep.Length);
        for (var i = 0; i < keep.Length; i++)
        {
            map[keep[i]] = i;
        }

        var m = keep.LongLength;
        var adj = CsrMatrix.FromEntries(m, m, adjacency.Entries()
            .Where(e => map.ContainsKey(e.Row) && map.ContainsKey(e.Column))
            .Select(e => (map[e.Row], map[e.Column], e.Value)));
        var features = CsrMatrix.FromEntries(m, FeatureCount, Features.Entries()
            .Where(e => map.ContainsKey(e.Row))
            .Select(e => (map[e.Row], e.Column, e.Value)));
        return new GraphDataset(
            adj,
            features,
            keep.Select(i => Labels[i]).ToArray(),
            NodeNames is null ? null : keep.Select(i => NodeNames[i]).ToArray(),
            ClassNames);
    }
}
