using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// MoCo v2's InfoNCE (He et al., CVPR 2020; Chen, Fan, Girshick and He, arXiv 2003.04297; facebookresearch/moco
/// <c>moco/builder.py</c>): queries <c>q</c> (the query participant's projections of one view) and keys <c>k</c> (the key
/// encoder's projections of the other view, no gradient) are scaled to unit rows; with a queue of K past keys
/// <c>a_j</c>, <c>L = −(1/B) Σ_i log( exp(q_i·k_i/τ) / (exp(q_i·k_i/τ) + Σ_j exp(q_i·a_j/τ)) )</c>. After the optimiser step
/// (<see cref="OnStepEnd"/>) the key encoder takes its momentum step (<see cref="MomentumEncoder"/>) and the batch's keys
/// are enqueued; the queue and the key encoder's weights are checkpointed loss state. As in MoCo, the key encoder that
/// computes step t's keys has had the momentum update of step t − 1. Reports "NAME".
/// </summary>
public sealed class MocoLoss : DistillationLoss
{
    private readonly EmbeddingQueue _queue;
    private Tensor? _pendingKeys;

    /// <summary>Creates the term.</summary>
    /// <param name="feature">The query participant's feature (Student) and the key participant's feature (Teacher) holding the projections.</param>
    /// <param name="encoder">The query and key encoders (the participants' modules).</param>
    /// <param name="width">D, the projection width (the queue's width).</param>
    /// <param name="dataSize">N, the training set's size: the queue may not be larger.</param>
    /// <param name="queueSize">K, the number of queued negatives (MoCo: 65536; at most N).</param>
    /// <param name="temperature">τ &gt; 0 (MoCo v2: 0.2).</param>
    /// <param name="seed">Seed of the queue's initial entries.</param>
    /// <param name="query">The query participant (trained).</param>
    /// <param name="key">The key participant (frozen; its module is <paramref name="encoder"/>'s key).</param>
    /// <param name="name">Reporting name (default "moco").</param>
    /// <exception cref="ArgumentOutOfRangeException">K is below 1 or above N, D or N is below 1, or τ &lt;= 0.</exception>
    /// <exception cref="ArgumentException">A name is empty, or the query and key participants are the same.</exception>
    public MocoLoss(FeaturePair feature, MomentumEncoder encoder, long width, long dataSize, int queueSize = 65536, double temperature = 0.2, long seed = 0, string query = "student", string key = "key", string name = "moco")
        : base(name)
    {
        Feature = feature ?? throw new ArgumentNullException(nameof(feature));
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        DataSize = dataSize;
        QueueSize = EmbeddingChecks.QueueSize(queueSize, dataSize, nameof(queueSize));
        Temperature = Guard.Positive(temperature, nameof(temperature));
        Query = Guard.Name(query, nameof(query));
        Key = Guard.Name(key, nameof(key));
        if (Query == Key)
        {
            throw new ArgumentException($"The query and key participants must differ; both are '{Query}'.", nameof(key));
        }

        _queue = new EmbeddingQueue(queueSize, width, seed);
    }

    /// <summary>The query's and the key's feature names.</summary>
    public FeaturePair Feature { get; }

    /// <summary>The query and key encoders.</summary>
    public MomentumEncoder Encoder { get; }

    /// <summary>N, the training set's size.</summary>
    public long DataSize { get; }

    /// <summary>K, the queue's size.</summary>
    public int QueueSize { get; }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>The query participant.</summary>
    public string Query { get; }

    /// <summary>The key participant.</summary>
    public string Key { get; }

    /// <summary>The queue of past keys.</summary>
    public EmbeddingQueue Queue => _queue;

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Feature(Query, Feature.Student).Feature(Key, Feature.Teacher);

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => new[] { _queue.State($"{Name}.queue"), Encoder.State($"{Name}.key-encoder") };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The queries and keys differ in batch or width, or their width is not the queue's.</exception>
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (q, k) = ReadPair(context, Feature, Query, Key, _queue.Width, "MoCo");
        var queue = _queue.EntriesLike(q);
        var value = InfoNce(q, k, queue, Temperature);
        Remember(k);
        return new LossResult(Name, value);
    }

    /// <summary>Moves the key encoder one momentum step and enqueues the last <see cref="Compute"/>'s keys.</summary>
    /// <param name="context">The step's context.</param>
    public override void OnStepEnd(DistillationContext context)
    {
        if (_pendingKeys is not { } keys)
        {
            return;
        }

        Encoder.Update();
        _queue.Enqueue(keys);
        Forget();
    }

    /// <summary>Unit queries and detached unit keys [B, D] read from two participants' features, checked.</summary>
    internal static (Tensor Query, Tensor Key) ReadPair(DistillationContext context, FeaturePair feature, string query, string key, long width, string method)
    {
        var queryWhat = $"feature '{feature.Student}' of '{query}'";
        var keyWhat = $"feature '{feature.Teacher}' of '{key}'";
        var q = EmbeddingChecks.Flat(context.Output(query).Feature(feature.Student, query), queryWhat);
        var k = EmbeddingChecks.Flat(context.Output(key).Feature(feature.Teacher, key), keyWhat);
        EmbeddingChecks.SamePair(q, queryWhat, k, keyWhat, "the key encoder must be a copy of the query encoder.");
        if (q.shape[1] != width)
        {
            throw new ArgumentException($"The {queryWhat} has {q.shape[1]} values per sample, but the {method} queue holds {width}-wide embeddings.", queryWhat);
        }

        return (EmbeddingChecks.Unit(q), EmbeddingChecks.Unit(k.detach()));
    }

    /// <summary>MoCo's InfoNCE for unit queries, keys [B, D] and a queue [K, D], unchecked.</summary>
    internal static Tensor InfoNce(Tensor q, Tensor k, Tensor queue, double temperature) =>
        nn.functional.cross_entropy(Logits(q, k, queue, temperature), zeros(q.shape[0], ScalarType.Int64, q.device));

    /// <summary>[q·k, q·a_1, ..., q·a_K] / τ per row.</summary>
    internal static Tensor Logits(Tensor q, Tensor k, Tensor queue, double temperature) =>
        cat(new[] { (q * k).sum(1, keepdim: true), q.matmul(queue.t()) }, 1) / temperature;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Forget();
            _queue.Dispose();
        }
    }

    private void Remember(Tensor keys)
    {
        Forget();
        _pendingKeys = keys.detach().clone().DetachFromDisposeScope();
    }

    private void Forget()
    {
        _pendingKeys?.Dispose();
        _pendingKeys = null;
    }
}

public static partial class Loss
{
    /// <summary>
    /// He et al. (2020) / Chen et al. (2020), MoCo v2's InfoNCE against a queue of past keys, with the key encoder's momentum
    /// update and the enqueue at step end (see <see cref="MocoLoss"/>). Reports "NAME".
    /// </summary>
    /// <param name="feature">The query participant's and the key participant's projection features.</param>
    /// <param name="encoder">The query and key encoders.</param>
    /// <param name="width">D, the projection width.</param>
    /// <param name="dataSize">N, the training set's size.</param>
    /// <param name="queueSize">K &lt;= N.</param>
    /// <param name="temperature">τ &gt; 0.</param>
    /// <param name="seed">Seed of the queue's initial entries.</param>
    /// <param name="query">The query participant.</param>
    /// <param name="key">The key participant.</param>
    /// <param name="name">Reporting name.</param>
    public static MocoLoss Moco(FeaturePair feature, MomentumEncoder encoder, long width, long dataSize, int queueSize = 65536, double temperature = 0.2, long seed = 0, string query = "student", string key = "key", string name = "moco") =>
        new(feature, encoder, width, dataSize, queueSize, temperature, seed, query, key, name);
}
