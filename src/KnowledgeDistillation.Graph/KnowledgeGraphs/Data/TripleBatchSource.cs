using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Mini-batches of training triples with uniformly sampled negatives. Each batch has
/// <see cref="Batch.Inputs"/> = int64 [B, 3] (head, relation, tail), <see cref="Batch.Indices"/> = the triples' indices,
/// and extras <see cref="NegativesKey"/> = int64 [B, N] replacement entities and <see cref="CorruptHeadKey"/> = int64 [1]
/// (1 when the negatives replace the heads, 0 for tails), or int64 [B] with one side per triple for
/// <see cref="CorruptionMode.Bernoulli"/>. Shuffle order, negatives and sides are a pure function of (seed, epoch), kept on
/// the host, so batches are created lazily inside the engine's dispose scope.
/// </summary>
public sealed class TripleBatchSource : IBatchSource
{
    /// <summary>The extra holding the negative entities [B, N].</summary>
    public const string NegativesKey = "negatives";

    /// <summary>The extra telling which side the negatives replace: int64 [1], 1 = head, 0 = tail.</summary>
    public const string CorruptHeadKey = "corrupt_head";

    /// <summary>
    /// The extra holding each triple's subsampling weight (float32 [B]) when the source was created with
    /// <c>subsamplingWeights: true</c>; <see cref="SelfAdversarialLoss"/>, <see cref="ScoreDistillationLoss"/> and
    /// <see cref="DualDELoss"/> then take weighted means over the batch (Σ w·x / Σ w) instead of plain ones.
    /// </summary>
    public const string SubsamplingWeightsKey = "subsampling_weight";

    /// <summary>The count every (entity, relation) pair starts from in <see cref="SubsamplingWeight"/> (RotatE's and NeuralKG's 4).</summary>
    public const int SubsamplingCountStart = 4;

    private readonly IReadOnlyList<Triple> _triples;
    private readonly float[]? _subsampling;
    private readonly int _entityCount;
    private readonly Dictionary<int, double>? _headProbability;

    /// <summary>Creates the source.</summary>
    /// <param name="triples">The training triples (non-empty).</param>
    /// <param name="entityCount">Negatives are drawn uniformly from [0, entityCount).</param>
    /// <param name="batchSize">Triples per batch, &gt;= 1.</param>
    /// <param name="negatives">Negatives per triple, &gt;= 1.</param>
    /// <param name="seed">Seed of the shuffle and the sampler.</param>
    /// <param name="mode">Which side negatives replace.</param>
    /// <param name="shuffle">Whether to shuffle each epoch.</param>
    /// <param name="subsamplingWeights">Add each triple's subsampling weight to its batch (<see cref="SubsamplingWeightsKey"/>; RotatE / NeuralKG's <c>--use_weight</c>).</param>
    /// <exception cref="ArgumentException">Empty triples, or a triple's entity is outside [0, entityCount).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public TripleBatchSource(IReadOnlyList<Triple> triples, int entityCount, int batchSize, int negatives, int seed = 0, CorruptionMode mode = CorruptionMode.Alternate, bool shuffle = true, bool subsamplingWeights = false)
    {
        ArgumentNullException.ThrowIfNull(triples);
        if (triples.Count == 0)
        {
            throw new ArgumentException("The triples are empty.", nameof(triples));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(entityCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(negatives, 1);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown corruption mode.");
        }
        foreach (var t in triples)
        {
            if ((uint)t.Head >= (uint)entityCount || (uint)t.Tail >= (uint)entityCount || t.Relation < 0)
            {
                throw new ArgumentException($"Triple {t} has an entity outside [0, {entityCount - 1}] or a negative relation.", nameof(triples));
            }
        }
        _triples = triples;
        _entityCount = entityCount;
        BatchSize = batchSize;
        Negatives = negatives;
        Seed = seed;
        Mode = mode;
        Shuffle = shuffle;
        _headProbability = mode == CorruptionMode.Bernoulli ? BernoulliProbabilities(triples) : null;
        _subsampling = subsamplingWeights ? SubsamplingWeights(triples) : null;
    }

    /// <summary>Whether batches carry <see cref="SubsamplingWeightsKey"/>.</summary>
    public bool HasSubsamplingWeights => _subsampling is not null;

    /// <summary>
    /// The subsampling weight of training triple <paramref name="index"/> (word2vec-style, RotatE / NeuralKG's
    /// <c>--use_weight</c>): <c>1 / sqrt(count(h, r) + count(t, r⁻¹))</c>, where count(h, r) is
    /// <see cref="SubsamplingCountStart"/> plus the number of further training triples with that head and relation (and
    /// count(t, r⁻¹) the same for tail and relation), so frequent partial triples weigh less.
    /// </summary>
    /// <param name="index">The triple's index in the training list.</param>
    /// <exception cref="InvalidOperationException">The source was created without subsampling weights.</exception>
    public double SubsamplingWeight(int index) =>
        _subsampling is null
            ? throw new InvalidOperationException("This source was created without subsampling weights (subsamplingWeights: true).")
            : _subsampling[index];

    /// <summary>Triples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Negatives per triple.</summary>
    public int Negatives { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>Which side negatives replace.</summary>
    public CorruptionMode Mode { get; }

    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }

    /// <summary>
    /// For <see cref="CorruptionMode.Bernoulli"/>: the probability that a triple of <paramref name="relation"/> has its head
    /// replaced, <c>tph / (tph + hpt)</c> over the training triples; 0.5 for a relation without training triples.
    /// </summary>
    /// <param name="relation">A relation id.</param>
    /// <exception cref="InvalidOperationException">The mode is not Bernoulli.</exception>
    public double HeadCorruptionProbability(int relation) =>
        _headProbability is null
            ? throw new InvalidOperationException($"Per-relation corruption probabilities exist only for CorruptionMode.Bernoulli; this source uses {Mode}.")
            : _headProbability.GetValueOrDefault(relation, 0.5);

    /// <inheritdoc />
    public long SampleCount => _triples.Count;

    /// <inheritdoc />
    public int BatchCount => (_triples.Count + BatchSize - 1) / BatchSize;

    /// <inheritdoc />
    public int? ClassCount => null;

    /// <inheritdoc />
    public IEnumerable<Batch> GetBatches(int epoch, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var random = new Random(unchecked(Seed * 1_000_003 + epoch));
        var order = Enumerable.Range(0, _triples.Count).ToArray();
        if (Shuffle)
        {
            random.Shuffle(order);
        }
        for (var b = 0; b < BatchCount; b++)
        {
            var start = b * BatchSize;
            var size = Math.Min(BatchSize, order.Length - start);
            var inputs = new long[size * 3];
            var indices = new long[size];
            var negatives = new long[size * Negatives];
            for (var i = 0; i < size; i++)
            {
                var t = _triples[order[start + i]];
                indices[i] = order[start + i];
                inputs[3 * i] = t.Head;
                inputs[3 * i + 1] = t.Relation;
                inputs[3 * i + 2] = t.Tail;
            }
            for (var i = 0; i < negatives.Length; i++)
            {
                negatives[i] = random.Next(_entityCount);
            }
            long[] sides;
            if (_headProbability is not null)
            {
                sides = new long[size];
                for (var i = 0; i < size; i++)
                {
                    sides[i] = random.NextDouble() < _headProbability[_triples[order[start + i]].Relation] ? 1 : 0;
                }
            }
            else
            {
                var head = Mode == CorruptionMode.Head || (Mode == CorruptionMode.Alternate && b % 2 == 1);
                sides = new long[] { head ? 1 : 0 };
            }

            var extras = new Dictionary<string, Tensor>
            {
                [NegativesKey] = tensor(negatives, new long[] { size, Negatives }, device: device),
                [CorruptHeadKey] = tensor(sides, device: device),
            };
            if (_subsampling is not null)
            {
                var weights = new float[size];
                for (var i = 0; i < size; i++)
                {
                    weights[i] = _subsampling[order[start + i]];
                }

                extras[SubsamplingWeightsKey] = tensor(weights, device: device);
            }

            yield return new Batch(tensor(inputs, new long[] { size, 3 }, device: device), null, tensor(indices, device: device), extras);
        }
    }

    /// <summary>tph / (tph + hpt) per relation (Wang et al. 2014).</summary>
    private static float[] SubsamplingWeights(IReadOnlyList<Triple> triples)
    {
        var headSide = new Dictionary<(int Entity, int Relation), int>();
        var tailSide = new Dictionary<(int Entity, int Relation), int>();
        foreach (var t in triples)
        {
            headSide[(t.Head, t.Relation)] = headSide.GetValueOrDefault((t.Head, t.Relation)) + 1;
            tailSide[(t.Tail, t.Relation)] = tailSide.GetValueOrDefault((t.Tail, t.Relation)) + 1;
        }

        // NeuralKG starts a pair at 4 on its first triple and adds 1 per further one: 3 + occurrences.
        const int offset = SubsamplingCountStart - 1;
        return triples.Select(t => (float)(1 / Math.Sqrt(offset + headSide[(t.Head, t.Relation)] + offset + tailSide[(t.Tail, t.Relation)]))).ToArray();
    }

    private static Dictionary<int, double> BernoulliProbabilities(IReadOnlyList<Triple> triples)
    {
        var tails = new Dictionary<(int Relation, int Head), int>();
        var heads = new Dictionary<(int Relation, int Tail), int>();
        foreach (var t in triples.Distinct())
        {
            tails[(t.Relation, t.Head)] = tails.GetValueOrDefault((t.Relation, t.Head)) + 1;
            heads[(t.Relation, t.Tail)] = heads.GetValueOrDefault((t.Relation, t.Tail)) + 1;
        }

        var tph = tails.GroupBy(kv => kv.Key.Relation).ToDictionary(g => g.Key, g => g.Average(kv => kv.Value));
        var hpt = heads.GroupBy(kv => kv.Key.Relation).ToDictionary(g => g.Key, g => g.Average(kv => kv.Value));
        return tph.ToDictionary(kv => kv.Key, kv => kv.Value / (kv.Value + hpt[kv.Key]));
    }
}
