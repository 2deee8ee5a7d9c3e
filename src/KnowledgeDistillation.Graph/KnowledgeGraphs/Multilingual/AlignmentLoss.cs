using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// KEnS's entity-alignment term J_A on an alignment batch of <see cref="MultilingualBatchSource"/>: for the batch's
/// language pair (a, b), <c>weight * mean over aligned pairs (e, e') of ||E_a[e] - E_b[e']||_2</c> (the Euclidean
/// distance, not squared, as in the official code's "same space" alignment model; the mean instead of the sum keeps the
/// step size independent of the alignment's size). Zero on knowledge batches. Reads the entity tables of the two
/// languages' models directly, so the gradient reaches both. Self-learning: every <see cref="SelfLearningEvery"/>
/// epochs (between rounds), <see cref="OnEpochEnd"/> adds the mutual CSLS nearest neighbours among still-unaligned
/// entities to each pair's alignment (<see cref="Csls.MutualNearest"/>); the grown alignment is <see cref="State"/>.
/// </summary>
public sealed class AlignmentLoss : Losses.DistillationLoss
{
    private readonly MultilingualKnowledgeGraph _graph;
    private readonly IReadOnlyDictionary<string, KgeModel> _models;
    private readonly AlignmentState _state;
    private readonly ILogger _logger;
    private readonly Dictionary<int, (int Version, Tensor Pairs)> _devicePairs = new();

    /// <summary>Creates the term.</summary>
    /// <param name="graph">The multilingual graph.</param>
    /// <param name="models">One model per language (the participants' modules).</param>
    /// <param name="weight">lambda, the weight of J_A (> 0).</param>
    /// <param name="selfLearningEvery">Epochs per self-learning round (null: no self-learning).</param>
    /// <param name="neighbours">CSLS neighbourhood size k (KEnS: 3).</param>
    /// <param name="logger">Receives one line per self-learning round.</param>
    /// <param name="name">Part name.</param>
    /// <param name="selfLearningCandidates">Which unaligned entities a self-learning round may pair (default: only within each other's
    /// CSLS neighbourhoods, as the released KEnS code does).</param>
    public AlignmentLoss(MultilingualKnowledgeGraph graph, IReadOnlyDictionary<string, KgeModel> models, double weight = 1.0, int? selfLearningEvery = null,
        int neighbours = 3, ILogger? logger = null, string name = "alignment", CslsCandidates selfLearningCandidates = CslsCandidates.Neighbourhood)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        MultilingualParticipants.CheckModels(graph, models);
        if (!(weight > 0) || double.IsInfinity(weight))
        {
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "'weight' must be a finite number > 0.");
        }
        if (selfLearningEvery is { } every)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(every, 1, nameof(selfLearningEvery));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(neighbours, 1);
        if (!Enum.IsDefined(selfLearningCandidates))
        {
            throw new ArgumentOutOfRangeException(nameof(selfLearningCandidates), selfLearningCandidates, "Use CslsCandidates.Neighbourhood or CslsCandidates.All.");
        }
        SelfLearningCandidates = selfLearningCandidates;
        _graph = graph;
        _models = models;
        _state = new AlignmentState(graph);
        _logger = logger ?? NullLogger.Instance;
        Weight = weight;
        SelfLearningEvery = selfLearningEvery;
        Neighbours = neighbours;
    }

    /// <summary>lambda.</summary>
    public double Weight { get; }

    /// <summary>Epochs per self-learning round, or null.</summary>
    public int? SelfLearningEvery { get; }

    /// <summary>CSLS neighbourhood size.</summary>
    public int Neighbours { get; }

    /// <summary>Which unaligned entities a self-learning round may pair.</summary>
    public CslsCandidates SelfLearningCandidates { get; }

    /// <summary>The current (seed + learned) alignments.</summary>
    public AlignmentState Alignments => _state;

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => new ILossState[] { _state };

    /// <summary>mean_i ||left_i - right_i||_2 over rows.</summary>
    /// <param name="left">[pairs, d] rows of one language.</param>
    /// <param name="right">[pairs, d] aligned rows of the other.</param>
    /// <returns>A scalar.</returns>
    public static Tensor Value(Tensor left, Tensor right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        if (left.dim() != 2 || !left.shape.SequenceEqual(right.shape) || left.shape[0] == 0)
        {
            throw new ArgumentException($"Alignment rows must be two non-empty [pairs, d] tensors of one shape; got {Guard.Shape(left)} and {Guard.Shape(right)}.", nameof(right));
        }
        return linalg.vector_norm(left - right, 2, new long[] { 1 }).mean();
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (MultilingualBatchSource.PairOf(context.Batch) is not { } pair)
        {
            return new LossResult(Name, zeros(1, device: context.Batch.Inputs.device).squeeze());
        }
        var (a, b) = _graph.Pairs[pair];
        var ma = _models[a];
        var mb = _models[b];
        var pairs = DevicePairs(pair, ma.EntityEmbeddings.device);
        var left = ma.EntityRows(pairs.select(1, 0));
        var right = mb.EntityRows(pairs.select(1, 1));
        return new LossResult(Name, Weight * Value(left, right));
    }

    /// <inheritdoc />
    public override void OnEpochEnd(LossEpochInfo epoch)
    {
        ArgumentNullException.ThrowIfNull(epoch);
        if (SelfLearningEvery is { } every && (epoch.Epoch + 1) % every == 0)
        {
            SelfLearn();
        }
    }

    /// <summary>One self-learning round over every aligned pair; returns the number of pairs added.</summary>
    /// <returns>Added pairs in total.</returns>
    public int SelfLearn()
    {
        var added = 0;
        for (var p = 0; p < _graph.Pairs.Count; p++)
        {
            var (a, b) = _graph.Pairs[p];
            var current = _state[p];
            var alignedA = current.Pairs.Select(x => x.Source).ToHashSet();
            var alignedB = current.Pairs.Select(x => x.Target).ToHashSet();
            var candidatesA = Enumerable.Range(0, _graph[a].EntityCount).Where(e => !alignedA.Contains(e)).ToArray();
            var candidatesB = Enumerable.Range(0, _graph[b].EntityCount).Where(e => !alignedB.Contains(e)).ToArray();
            var found = Csls.MutualNearest(_models[a].EntityEmbeddings, _models[b].EntityEmbeddings, candidatesA, candidatesB, Neighbours, SelfLearningCandidates);
            var n = _state.Extend(p, found);
            added += n;
            _logger.LogInformation("Self-learning {A}-{B}: +{Added} pairs ({Total} aligned)", a, b, n, _state[p].Count);
        }
        return added;
    }

    private Tensor DevicePairs(int pair, Device device)
    {
        if (_devicePairs.TryGetValue(pair, out var cached) && cached.Version == _state.Version && cached.Pairs.device == device)
        {
            return cached.Pairs;
        }
        if (cached.Pairs is not null)
        {
            cached.Pairs.Dispose();
        }
        var t = AlignmentState.ToTensor(_state[pair]).to(device).DetachFromDisposeScope();
        _devicePairs[pair] = (_state.Version, t);
        return t;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var (_, t) in _devicePairs.Values)
            {
                t.Dispose();
            }
            _devicePairs.Clear();
        }
        base.Dispose(disposing);
    }
}
