using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// Cross-domain similarity local scaling (Conneau et al. 2018), as KEnS's self-learning uses it to propose new entity
/// alignments: <c>CSLS(x, y) = 2 cos(x, y) - r_B(x) - r_A(y)</c>, where <c>r_B(x)</c> is the mean cosine of
/// <c>x</c> to its <c>k</c> nearest neighbours among all rows of <c>B</c> and <c>r_A(y)</c> that of <c>y</c> among all rows of
/// <c>A</c>. Computed in row chunks, never as one |A| x |B| matrix.
/// </summary>
public static class Csls
{
    private const long ChunkElements = 1L << 22;

    /// <summary>Mean cosine of each row of <paramref name="queries"/> to its <paramref name="k"/> most similar rows of <paramref name="keys"/>.</summary>
    /// <param name="queries">[n, d].</param>
    /// <param name="keys">[m, d], m >= k.</param>
    /// <param name="k">Neighbourhood size (KEnS: 3).</param>
    /// <returns>[n] float tensor.</returns>
    public static Tensor NeighbourhoodSimilarity(Tensor queries, Tensor keys, int k = 3)
    {
        Check(queries, keys, k);
        using var noGrad = no_grad();
        var q = nn.functional.normalize(queries.detach(), dim: 1);
        var c = nn.functional.normalize(keys.detach(), dim: 1);
        var parts = new List<Tensor>();
        foreach (var (start, length) in Chunks(q.shape[0], c.shape[0]))
        {
            parts.Add(q.narrow(0, start, length).matmul(c.t()).topk(k, 1).values.mean(new long[] { 1 }));
        }
        return cat(parts, 0);
    }

    /// <summary>The full CSLS matrix (for small inputs and tests).</summary>
    /// <param name="a">[n, d].</param>
    /// <param name="b">[m, d].</param>
    /// <param name="k">Neighbourhood size.</param>
    /// <returns>[n, m].</returns>
    public static Tensor Scores(Tensor a, Tensor b, int k = 3)
    {
        Check(a, b, k);
        using var noGrad = no_grad();
        var rB = NeighbourhoodSimilarity(a, b, k);
        var rA = NeighbourhoodSimilarity(b, a, k);
        var cos = nn.functional.normalize(a.detach(), dim: 1).matmul(nn.functional.normalize(b.detach(), dim: 1).t());
        return 2 * cos - rB.unsqueeze(1) - rA.unsqueeze(0);
    }

    /// <summary>
    /// Mutual CSLS nearest neighbours between candidate rows: pairs (i, j) where candidate j of B is the CSLS-best for
    /// candidate i of A and i the CSLS-best for j. Neighbourhoods (the r terms) are over all rows of both tables.
    /// </summary>
    /// <param name="a">All entity rows of A [n, d].</param>
    /// <param name="b">All entity rows of B [m, d].</param>
    /// <param name="candidatesA">Row ids of A that may be aligned (e.g. the unaligned ones).</param>
    /// <param name="candidatesB">Row ids of B that may be aligned.</param>
    /// <param name="k">Neighbourhood size (KEnS: 3).</param>
    /// <param name="candidates">
    /// Whether a row may pair only with the unaligned rows among its <paramref name="k"/> nearest neighbours (cosine, over all rows of
    /// the other table; the released KEnS code's rule) or with any unaligned row (the default, for compatibility).
    /// </param>
    /// <returns>(row of A, row of B) pairs, ordered by row of A.</returns>
    public static IReadOnlyList<(int A, int B)> MutualNearest(Tensor a, Tensor b, IReadOnlyList<int> candidatesA, IReadOnlyList<int> candidatesB, int k = 3,
        CslsCandidates candidates = CslsCandidates.All)
    {
        Check(a, b, k);
        ArgumentNullException.ThrowIfNull(candidatesA);
        ArgumentNullException.ThrowIfNull(candidatesB);
        if (!Enum.IsDefined(candidates))
        {
            throw new ArgumentOutOfRangeException(nameof(candidates), candidates, "Use CslsCandidates.Neighbourhood or CslsCandidates.All.");
        }
        CheckRows(candidatesA, a.shape[0], nameof(candidatesA));
        CheckRows(candidatesB, b.shape[0], nameof(candidatesB));
        if (candidatesA.Count == 0 || candidatesB.Count == 0)
        {
            return Array.Empty<(int, int)>();
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        if (candidates == CslsCandidates.Neighbourhood)
        {
            return MutualWithinNeighbourhoods(a, b, candidatesA, candidatesB, k);
        }
        var device = a.device;
        var rB = NeighbourhoodSimilarity(a, b, k);
        var rA = NeighbourhoodSimilarity(b, a, k);
        var ia = tensor(candidatesA.Select(i => (long)i).ToArray(), device: device);
        var ib = tensor(candidatesB.Select(i => (long)i).ToArray(), device: device);
        var na = nn.functional.normalize(a.detach().index_select(0, ia), dim: 1);
        var nb = nn.functional.normalize(b.detach().index_select(0, ib), dim: 1);
        var ra = rB.index_select(0, ia);
        var rb = rA.index_select(0, ib);
        var bestForA = Best(na, nb, ra, rb);
        var bestForB = Best(nb, na, rb, ra);
        var pairs = new List<(int, int)>();
        for (var i = 0; i < bestForA.Length; i++)
        {
            var j = bestForA[i];
            if (bestForB[j] == i)
            {
                pairs.Add((candidatesA[i], candidatesB[(int)j]));
            }
        }
        return pairs;
    }

    private static List<(int, int)> MutualWithinNeighbourhoods(Tensor a, Tensor b, IReadOnlyList<int> candidatesA, IReadOnlyList<int> candidatesB, int k)
    {
        var rB = HostDoubles(NeighbourhoodSimilarity(a, b, k));
        var rA = HostDoubles(NeighbourhoodSimilarity(b, a, k));
        var isCandidateA = Membership(candidatesA, a.shape[0]);
        var isCandidateB = Membership(candidatesB, b.shape[0]);
        var bestForA = BestInNeighbourhood(a, b, candidatesA, isCandidateB, rB, rA, k);
        var bestForB = BestInNeighbourhood(b, a, candidatesB, isCandidateA, rA, rB, k);
        var pairs = new List<(int, int)>();
        foreach (var row in candidatesA)
        {
            if (bestForA.TryGetValue(row, out var j) && bestForB.TryGetValue(j, out var i) && i == row)
            {
                pairs.Add((row, j));
            }
        }
        pairs.Sort();
        return pairs;
    }

    /// <summary>
    /// For each candidate row of <paramref name="x"/>: of its k nearest rows of <paramref name="y"/> (cosine, all rows), the candidate
    /// one with the highest CSLS; rows with no candidate among their neighbours are absent.
    /// </summary>
    private static Dictionary<int, int> BestInNeighbourhood(Tensor x, Tensor y, IReadOnlyList<int> candidatesX, bool[] isCandidateY, double[] rX, double[] rY, int k)
    {
        var rows = tensor(candidatesX.Select(i => (long)i).ToArray(), device: x.device);
        var qx = nn.functional.normalize(x.detach().index_select(0, rows), dim: 1);
        var ny = nn.functional.normalize(y.detach(), dim: 1);
        var values = new List<Tensor>();
        var indices = new List<Tensor>();
        foreach (var (start, length) in Chunks(qx.shape[0], ny.shape[0]))
        {
            var (v, ix) = qx.narrow(0, start, length).matmul(ny.t()).topk(k, 1);
            values.Add(v);
            indices.Add(ix);
        }
        var cos = HostDoubles(cat(values, 0));
        var neighbours = cat(indices, 0).cpu().data<long>().ToArray();
        var best = new Dictionary<int, int>();
        for (var i = 0; i < candidatesX.Count; i++)
        {
            var bestScore = double.NegativeInfinity;
            var bestRow = -1;
            for (var n = 0; n < k; n++)
            {
                var j = (int)neighbours[(i * k) + n];
                if (!isCandidateY[j])
                {
                    continue;
                }
                var score = (2.0 * cos[(i * k) + n]) - rX[candidatesX[i]] - rY[j];
                if (score > bestScore)
                {
                    (bestScore, bestRow) = (score, j);
                }
            }
            if (bestRow >= 0)
            {
                best[candidatesX[i]] = bestRow;
            }
        }
        return best;
    }

    private static double[] HostDoubles(Tensor values) => values.to_type(ScalarType.Float64).cpu().data<double>().ToArray();

    private static bool[] Membership(IReadOnlyList<int> rows, long count)
    {
        var member = new bool[count];
        foreach (var row in rows)
        {
            member[row] = true;
        }
        return member;
    }

    private static void CheckRows(IReadOnlyList<int> rows, long count, string name)
    {
        foreach (var row in rows)
        {
            if (row < 0 || row >= count)
            {
                throw new ArgumentOutOfRangeException(name, row, $"Candidate rows must lie in [0, {count}); got {row}.");
            }
        }
    }

    private static long[] Best(Tensor x, Tensor y, Tensor rx, Tensor ry)
    {
        var parts = new List<Tensor>();
        foreach (var (start, length) in Chunks(x.shape[0], y.shape[0]))
        {
            var csls = 2 * x.narrow(0, start, length).matmul(y.t()) - rx.narrow(0, start, length).unsqueeze(1) - ry.unsqueeze(0);
            parts.Add(csls.argmax(1));
        }
        return cat(parts, 0).cpu().data<long>().ToArray();
    }

    private static IEnumerable<(long Start, long Length)> Chunks(long rows, long columns)
    {
        var chunk = Math.Max(1, ChunkElements / Math.Max(1, columns));
        for (long start = 0; start < rows; start += chunk)
        {
            yield return (start, Math.Min(chunk, rows - start));
        }
    }

    private static void Check(Tensor a, Tensor b, int k)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.dim() != 2 || b.dim() != 2 || a.shape[1] != b.shape[1])
        {
            throw new ArgumentException($"CSLS needs two [rows, d] tables of one width; got {Guard.Shape(a)} and {Guard.Shape(b)}.", nameof(b));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (k > a.shape[0] || k > b.shape[0])
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"'k' must be at most the row count of both tables ({a.shape[0]}, {b.shape[0]}).");
        }
    }
}
