using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// RRD, relaxed ranking distillation (Kang et al. 2020, "DE-RRD: A Knowledge Distillation Framework for Recommender System",
/// CIKM): for each distinct user of the batch, K "interesting" items drawn without replacement from the teacher's top N
/// (probability ∝ exp(−rank / T)) and kept in the teacher's order, and L "uninteresting" items drawn uniformly from the
/// items outside the top N and outside the user's training items. The student's scores S¹ (interesting, in order) and S²
/// follow a relaxed Plackett-Luce likelihood: <c>−Σ_u Σ_k [S¹_k − log(Σ_{l≥k} exp S¹_l + Σ_m exp S²_m)]</c>. The lists are
/// redrawn every epoch as a pure function of (seed, epoch) on the host. Reports "NAME".
/// </summary>
public sealed class RelaxedRankingLoss : Losses.DistillationLoss
{
    private readonly TeacherRanking _ranking;
    private int _cachedEpoch = -1;
    private Tensor? _interesting;
    private Tensor? _uninteresting;

    /// <summary>Creates the term.</summary>
    /// <param name="ranking">The teacher's top-N lists.</param>
    /// <param name="interesting">K &gt;= 1, at most N (default 10).</param>
    /// <param name="uninteresting">L &gt;= 1 (default 100).</param>
    /// <param name="rankTemperature">T &gt; 0 of exp(−rank / T) (default 10).</param>
    /// <param name="seed">Seed of the lists.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name (default "rrd").</param>
    /// <exception cref="ArgumentException">A user has no item outside its top N and training items.</exception>
    public RelaxedRankingLoss(TeacherRanking ranking, int interesting = 10, int uninteresting = 100, double rankTemperature = 10, int seed = 0, string student = "student", string name = "rrd")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(ranking);
        ArgumentOutOfRangeException.ThrowIfLessThan(interesting, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(interesting, ranking.Depth);
        ArgumentOutOfRangeException.ThrowIfLessThan(uninteresting, 1);
        Guard.Positive(rankTemperature, nameof(rankTemperature));
        ArgumentException.ThrowIfNullOrWhiteSpace(student);
        var split = ranking.Split;
        for (var u = 0; u < split.UserCount; u++)
        {
            if (split.ItemCount - ranking.Depth - split.TrainItems[u].Length <= 0)
            {
                throw new ArgumentException($"User {u} has no item outside its teacher top {ranking.Depth} and its training items.", nameof(ranking));
            }
        }
        _ranking = ranking;
        Interesting = interesting;
        Uninteresting = uninteresting;
        RankTemperature = rankTemperature;
        Seed = seed;
        Student = student;
    }

    /// <summary>K.</summary>
    public int Interesting { get; }

    /// <summary>L.</summary>
    public int Uninteresting { get; }

    /// <summary>T of the rank weights.</summary>
    public double RankTemperature { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The value for scores of the interesting items in the teacher's order [B, K] and of the uninteresting ones [B, L].</summary>
    /// <param name="interesting">S¹.</param>
    /// <param name="uninteresting">S².</param>
    public static Tensor Value(Tensor interesting, Tensor uninteresting)
    {
        Guard.Rank(interesting, 2, nameof(interesting), "[users, K]");
        Guard.Rank(uninteresting, 2, nameof(uninteresting), "[users, L]");
        Guard.BatchSize(uninteresting, interesting.shape[0], nameof(uninteresting));
        using var scope = NewDisposeScope();
        // log(Σ_{l≥k} exp S¹_l) for every k: a reversed log-cumsum-exp.
        var tail = interesting.flip(1).logcumsumexp(1).flip(1);
        var rest = uninteresting.logsumexp(1, keepdim: true).expand_as(tail);
        var below = stack(new[] { tail, rest }).logsumexp(0);
        return (below - interesting).sum().MoveToOuterDisposeScope();
    }

    /// <summary>The lists of one epoch: interesting [U, K] (teacher order) and uninteresting [U, L] item ids.</summary>
    /// <param name="epoch">The epoch.</param>
    public (long[] Interesting, long[] Uninteresting) Lists(int epoch)
    {
        var split = _ranking.Split;
        var random = new Random(unchecked(Seed * 1_000_003 + epoch));
        var first = new long[split.UserCount * Interesting];
        var second = new long[split.UserCount * Uninteresting];
        var n = _ranking.Depth;
        var keys = new double[n];
        var positions = new int[n];
        for (var u = 0; u < split.UserCount; u++)
        {
            // Weighted sampling without replacement (Efraimidis-Spirakis): the K largest U^(1/w) keys, w = exp(-rank/T).
            for (var r = 0; r < n; r++)
            {
                keys[r] = Math.Log(1.0 - random.NextDouble()) * Math.Exp((r + 1) / RankTemperature);
                positions[r] = r;
            }
            Array.Sort(keys, positions);
            var chosen = positions.AsSpan(n - Interesting, Interesting).ToArray();
            Array.Sort(chosen);
            for (var k = 0; k < Interesting; k++)
            {
                first[u * Interesting + k] = _ranking.Top[u][chosen[k]];
            }
            var top = _ranking.Top[u];
            var train = split.TrainItems[u];
            for (var m = 0; m < Uninteresting; m++)
            {
                int j;
                do
                {
                    j = random.Next(split.ItemCount);
                }
                while (Array.IndexOf(top, j) >= 0 || Array.BinarySearch(train, j) >= 0);
                second[u * Uninteresting + m] = j;
            }
        }
        return (first, second);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None
        .Feature(Student, RecommenderParticipant.Users).Feature(Student, RecommenderParticipant.Items);

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (batchUsers, _) = TopologyMath.BatchEntities(context.Batch.Inputs);
        var (first, second) = ListsOn(context.Epoch, context.Device);
        var s = context.Output(Student);
        var users = s.Feature(RecommenderParticipant.Users, Student).index_select(0, batchUsers);
        var items = s.Feature(RecommenderParticipant.Items, Student);
        var interestingItems = first.index_select(0, batchUsers);
        var uninterestingItems = second.index_select(0, batchUsers);
        var s1 = (items.index_select(0, interestingItems.reshape(-1)).reshape(interestingItems.shape[0], Interesting, -1) * users.unsqueeze(1)).sum(2);
        var s2 = (items.index_select(0, uninterestingItems.reshape(-1)).reshape(uninterestingItems.shape[0], Uninteresting, -1) * users.unsqueeze(1)).sum(2);
        return new LossResult(Name, Value(s1, s2));
    }

    // The epoch's lists, a pure function of (seed, epoch), cached on the device outside the step's dispose scope.
    private (Tensor Interesting, Tensor Uninteresting) ListsOn(int epoch, Device device)
    {
        if (_cachedEpoch != epoch || _interesting is null || _uninteresting is null
            || _interesting.device_type != device.type || _interesting.device_index != device.index)
        {
            _interesting?.Dispose();
            _uninteresting?.Dispose();
            var (first, second) = Lists(epoch);
            var users = _ranking.Split.UserCount;
            using (NewDisposeScope())
            {
                _interesting = tensor(first, new long[] { users, Interesting }, device: device).DetachFromDisposeScope();
                _uninteresting = tensor(second, new long[] { users, Uninteresting }, device: device).DetachFromDisposeScope();
            }
            _cachedEpoch = epoch;
        }
        return (_interesting, _uninteresting);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _interesting?.Dispose();
            _uninteresting?.Dispose();
        }
        base.Dispose(disposing);
    }
}
