using KnowledgeDistillation.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// Full-ranking evaluation on the embeddings' device: for each user with test items, every item is scored
/// (<c>users[u] · items[i]</c>), the user's training items are excluded (set to −∞), and the top max(K) items are compared
/// with the test items. Users are processed in batches of <see cref="UserBatchSize"/> (one [batch, items] score matrix at a
/// time; the users' index lists are built once, at construction); a top item is a hit when a binary search finds it among
/// the user's test items (no dense [batch, items] relevance mask); sums stay on the device and are read once. Users without
/// test items are skipped and counted. Ties among equal scores are broken by <c>topk</c>'s order (unspecified), as in the
/// reference implementations.
/// </summary>
public sealed class RankingEvaluator
{
    private readonly InteractionSplit _split;
    private readonly int[] _users;
    private readonly int[] _ks;
    private readonly UserBatch[] _batches;

    /// <summary>Creates the evaluator.</summary>
    /// <param name="split">The split (training items are excluded, test items are the relevant ones).</param>
    /// <param name="ks">Cut-offs, each in [1, item count] (default 10 and 50).</param>
    /// <param name="userBatchSize">Users scored at once, &gt;= 1 (memory: batch x items floats).</param>
    /// <exception cref="ArgumentOutOfRangeException">A K below 1 or above the item count, or no K.</exception>
    public RankingEvaluator(InteractionSplit split, IReadOnlyList<int>? ks = null, int userBatchSize = 1024)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentOutOfRangeException.ThrowIfLessThan(userBatchSize, 1);
        ks ??= new[] { 10, 50 };
        if (ks.Count == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ks), "At least one K is needed.");
        }
        foreach (var k in ks)
        {
            if (k < 1 || k > split.ItemCount)
            {
                throw new ArgumentOutOfRangeException(nameof(ks), k, $"Every K must be in [1, {split.ItemCount}] (the item count).");
            }
        }
        _split = split;
        _ks = ks.Distinct().Order().ToArray();
        _users = Enumerable.Range(0, split.UserCount).Where(u => split.TestItems[u].Length > 0).ToArray();
        UserBatchSize = userBatchSize;
        _batches = new UserBatch[(_users.Length + userBatchSize - 1) / userBatchSize];
        for (var b = 0; b < _batches.Length; b++)
        {
            _batches[b] = UserBatch.Of(split, _users.AsSpan(b * userBatchSize, Math.Min(userBatchSize, _users.Length - b * userBatchSize)));
        }
    }

    /// <summary>Users scored at once.</summary>
    public int UserBatchSize { get; }

    /// <summary>The cut-offs, ascending.</summary>
    public IReadOnlyList<int> Ks => _ks;

    /// <summary>Users with at least one test item.</summary>
    public int EvaluatedUserCount => _users.Length;

    /// <summary>Evaluates a model (eval mode and no gradient during the call; the mode is restored).</summary>
    /// <param name="model">The model.</param>
    /// <param name="cancellationToken">Checked between user batches.</param>
    public RankingMetrics Evaluate(RecommenderModel model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var (users, items) = model.Embeddings();
            return Evaluate(users, items, cancellationToken);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Evaluates embedding tables.</summary>
    /// <param name="users">User table [U, d].</param>
    /// <param name="items">Item table [I, d] on the same device.</param>
    /// <param name="cancellationToken">Checked between user batches.</param>
    /// <exception cref="ArgumentException">Shapes that do not match the split, or different devices.</exception>
    public RankingMetrics Evaluate(Tensor users, Tensor items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        Guard.Rank(users, 2, nameof(users), "[users, d]");
        Guard.Rank(items, 2, nameof(items), "[items, d]");
        if (users.shape[0] != _split.UserCount || items.shape[0] != _split.ItemCount || users.shape[1] != items.shape[1])
        {
            throw new ArgumentException(
                $"Expected users [{_split.UserCount}, d] and items [{_split.ItemCount}, d]; got {Guard.Shape(users)} and {Guard.Shape(items)}.", nameof(users));
        }
        Guard.SameDevice(users, nameof(users), items, nameof(items));
        MklCpuDispatch.Apply(); // MKL's fast kernels on AMD CPUs (KnowledgeDistillation.Runtime)
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        var device = users.device;
        var itemCount = (long)_split.ItemCount;
        var kMax = _ks[^1];
        var discount = 1.0 / log2(arange(2, kMax + 2, ScalarType.Float64, device));
        var idealTable = cat(new[] { zeros(1, ScalarType.Float64, device), discount.cumsum(0) });
        var sums = zeros(new long[] { 3, _ks.Length }, ScalarType.Float64, device);
        var itemsT = items.t();
        foreach (var batch in _batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var count = batch.Rows.Length;
            var scores = users.index_select(0, tensor(batch.Rows, device: device)).matmul(itemsT).to_type(ScalarType.Float32);
            scores.view(-1).index_fill_(0, tensor(batch.TrainKeys, device: device), float.NegativeInfinity);
            var top = scores.topk(kMax, dim: 1).indexes;
            // A top item is a hit when its key (row * items + item) is one of the sorted test keys: a binary search per top
            // entry ([count, kMax] lookups) instead of a dense [count, items] relevance mask.
            var testKeys = tensor(batch.TestKeys, device: device);
            var topKeys = top + arange(count, ScalarType.Int64, device).mul_(itemCount).unsqueeze(1);
            var position = searchsorted(testKeys, topKeys.view(-1)).clamp_max_(testKeys.shape[0] - 1);
            var hits = testKeys.index_select(0, position).eq(topKeys.view(-1)).view(count, kMax).to_type(ScalarType.Float64);
            var nTest = tensor(batch.TestCounts, device: device);
            for (var k = 0; k < _ks.Length; k++)
            {
                var K = _ks[k];
                var h = hits.narrow(1, 0, K);
                var hitCount = h.sum(1);
                var ideal = idealTable.index_select(0, nTest.clamp_max(K).to_type(ScalarType.Int64));
                sums[0, k].add_((hitCount / nTest).sum());
                sums[1, k].add_(((h * discount.narrow(0, 0, K)).sum(1) / ideal).sum());
                sums[2, k].add_(hitCount.gt(0).to_type(ScalarType.Float64).sum());
            }
        }
        var host = sums.cpu().data<double>().ToArray();
        var n = Math.Max(1, _users.Length);
        Dictionary<int, double> Row(int row) => _ks.Select((k, j) => (k, v: host[row * _ks.Length + j] / n)).ToDictionary(x => x.k, x => x.v);
        return new RankingMetrics(Row(0), Row(1), Row(2), _users.Length, _split.UserCount - _users.Length);
    }

    /// <summary>
    /// One batch of evaluated users, built once: their rows, and the flat keys (row * items + item) of their training items
    /// (excluded) and of their test items (sorted ascending, for the binary search), with each user's test-item count.
    /// </summary>
    private sealed record UserBatch(long[] Rows, long[] TrainKeys, long[] TestKeys, double[] TestCounts)
    {
        public static UserBatch Of(InteractionSplit split, ReadOnlySpan<int> users)
        {
            var itemCount = (long)split.ItemCount;
            var rows = new long[users.Length];
            var testCounts = new double[users.Length];
            var (trainTotal, testTotal) = (0, 0);
            foreach (var u in users)
            {
                trainTotal += split.TrainItems[u].Length;
                testTotal += split.TestItems[u].Length;
            }
            var trainKeys = new long[trainTotal];
            var testKeys = new long[testTotal];
            var (trainAt, testAt) = (0, 0);
            for (var r = 0; r < users.Length; r++)
            {
                var u = users[r];
                rows[r] = u;
                foreach (var i in split.TrainItems[u])
                {
                    trainKeys[trainAt++] = r * itemCount + i;
                }
                var first = testAt;
                foreach (var i in split.TestItems[u])
                {
                    testKeys[testAt++] = r * itemCount + i;
                }
                Array.Sort(testKeys, first, testAt - first); // keys ascend: rows in order, items sorted within a row
                testCounts[r] = split.TestItems[u].Length;
            }
            return new UserBatch(rows, trainKeys, testKeys, testCounts);
        }
    }
}
