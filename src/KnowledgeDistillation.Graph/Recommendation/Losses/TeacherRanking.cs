using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// Each user's top-N items under a (frozen) teacher, training items excluded, best first: the "interesting" pool of RRD.
/// Computed once, in user batches, and kept on the host.
/// </summary>
public sealed class TeacherRanking
{
    private TeacherRanking(int[][] top, InteractionSplit split)
    {
        Top = top;
        Split = split;
    }

    /// <summary>Each user's top-N item ids, best first.</summary>
    public IReadOnlyList<int[]> Top { get; }

    /// <summary>The split the ranking excludes training items of.</summary>
    public InteractionSplit Split { get; }

    /// <summary>N.</summary>
    public int Depth => Top[0].Length;

    /// <summary>Ranks every item for every user with the teacher's tables.</summary>
    /// <param name="teacher">The teacher (evaluated in eval mode without gradient; its mode is restored).</param>
    /// <param name="split">The split (training items are excluded).</param>
    /// <param name="depth">N &gt;= 1, at most the smallest number of non-training items of a user.</param>
    /// <param name="userBatchSize">Users scored at once.</param>
    /// <exception cref="ArgumentOutOfRangeException">N is larger than some user's number of non-training items.</exception>
    public static TeacherRanking Compute(RecommenderModel teacher, InteractionSplit split, int depth = 100, int userBatchSize = 1024)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(split);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(userBatchSize, 1);
        var minCandidates = split.TrainItems.Min(t => split.ItemCount - t.Length);
        if (depth > minCandidates)
        {
            throw new ArgumentOutOfRangeException(nameof(depth), depth, $"depth must be <= {minCandidates}, the fewest non-training items of a user.");
        }
        var wasTraining = teacher.training;
        teacher.eval();
        try
        {
            using var noGrad = no_grad();
            using var outer = NewDisposeScope();
            var (users, items) = teacher.Embeddings();
            var top = new int[split.UserCount][];
            for (var start = 0; start < split.UserCount; start += userBatchSize)
            {
                using var scope = NewDisposeScope();
                var count = Math.Min(userBatchSize, split.UserCount - start);
                var scores = users.narrow(0, start, count).matmul(items.t()).to_type(ScalarType.Float32);
                var flat = new List<long>();
                for (var r = 0; r < count; r++)
                {
                    foreach (var i in split.TrainItems[start + r])
                    {
                        flat.Add((long)r * split.ItemCount + i);
                    }
                }
                scores.view(-1).index_fill_(0, tensor(flat.ToArray(), device: scores.device), float.NegativeInfinity);
                var best = scores.topk(depth, dim: 1).indexes.cpu().data<long>().ToArray();
                for (var r = 0; r < count; r++)
                {
                    top[start + r] = best.AsSpan(r * depth, depth).ToArray().Select(x => (int)x).ToArray();
                }
            }
            return new TeacherRanking(top, split);
        }
        finally
        {
            teacher.train(wasTraining);
        }
    }

    /// <summary>A ranking from explicit lists (for tests).</summary>
    /// <param name="top">Each user's top-N items (equal lengths, no training items).</param>
    /// <param name="split">The split.</param>
    public static TeacherRanking FromLists(IReadOnlyList<int[]> top, InteractionSplit split)
    {
        ArgumentNullException.ThrowIfNull(top);
        ArgumentNullException.ThrowIfNull(split);
        if (top.Count != split.UserCount || top.Count == 0 || top.Any(t => t.Length != top[0].Length || t.Length == 0))
        {
            throw new ArgumentException($"top must have one non-empty list of equal length per user ({split.UserCount}).", nameof(top));
        }
        return new TeacherRanking(top.Select(t => t.ToArray()).ToArray(), split);
    }
}
