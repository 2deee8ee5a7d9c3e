using KnowledgeDistillation.Graph.Graphs;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Support;

internal static class TinyGraphs
{
    /// <summary>Undirected edges (both directions), no self loops.</summary>
    public static GraphAdjacency Undirected(int nodes, params (int U, int V)[] edges)
    {
        var src = edges.SelectMany(e => new long[] { e.U, e.V }).ToArray();
        var dst = edges.SelectMany(e => new long[] { e.V, e.U }).ToArray();
        return new GraphAdjacency(nodes, src, dst, Enumerable.Repeat(1f, src.Length).ToArray());
    }

    public static GraphAdjacency Path(int nodes) => Undirected(nodes, Enumerable.Range(0, nodes - 1).Select(i => (i, i + 1)).ToArray());

    /// <summary>A small irregular graph (degrees 1..4) used for layer checks.</summary>
    public static GraphAdjacency Irregular() => Undirected(6, (0, 1), (0, 2), (1, 2), (2, 3), (3, 4), (1, 4), (4, 5), (2, 4));

    public static Tensor Dense(GraphAdjacency graph, ScalarType dtype = ScalarType.Float32)
    {
        var m = graph.ToDense();
        var n = (int)graph.NodeCount;
        var flat = new float[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                flat[(i * n) + j] = m[i, j];
            }
        }

        return tensor(flat, new long[] { n, n }).to(dtype);
    }

    /// <summary>Two communities of <paramref name="perClass"/> nodes with noisy class-indicative sparse features.</summary>
    public static GraphDataset Communities(int perClass, int seed)
    {
        var rng = new Random(seed);
        var n = 2 * perClass;
        var edges = new List<(long, long, float)>();
        for (var i = 0; i < n; i++)
        {
            for (var j = i + 1; j < n; j++)
            {
                var same = (i < perClass) == (j < perClass);
                if (rng.NextDouble() < (same ? 0.15 : 0.01))
                {
                    edges.Add((i, j, 1f));
                    edges.Add((j, i, 1f));
                }
            }
        }

        for (var i = 0; i + 1 < n; i++)
        {
            edges.Add((i, i + 1, 1f));
            edges.Add((i + 1, i, 1f));
        }

        var features = new List<(long, long, float)>();
        for (var i = 0; i < n; i++)
        {
            var label = i < perClass ? 0 : 1;
            for (var f = 0; f < 20; f++)
            {
                var p = (f < 10) == (label == 0) ? 0.3 : 0.1;
                if (rng.NextDouble() < p)
                {
                    features.Add((i, f, 1f));
                }
            }
        }

        return new GraphDataset(
            CsrMatrix.FromEntries(n, n, edges),
            CsrMatrix.FromEntries(n, 20, features),
            Enumerable.Range(0, n).Select(i => i < perClass ? 0L : 1L).ToArray());
    }
}
