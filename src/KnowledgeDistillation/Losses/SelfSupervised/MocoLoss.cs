using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// MoCo v2's InfoNCE (He et al., CVPR 2020; Chen, Fan, Girshick and He, arXiv 2003.04297; facebookresearch/moco
/// <c>moco/builder.py</c>): queries <c>q</c> (the query participant's projections of one view, a declared feature) and keys
/// <c>k</c> (the loss-owned key encoder run on the other view, without gradient) are scaled to unit rows; with a queue of K past keys
/// <c>a_j</c>, <c>L = −(1/B) Σ_i log( exp(q_i·k_i/τ) / (exp(q_i·k_i/τ) + Σ_j exp(q_i·a_j/τ)) )</c>. After the optimiser step
/// (<see cref="OnStepEnd"/>) the key encoder takes its momentum step (<see cref="MomentumEncoder"/>) and the batch's keys
/// are enqueued. The key encoder is a frozen loss module (saved in checkpoints with the loss modules), the queue checkpointed
/// loss state. As in MoCo, the key encoder that
/// computes step t's keys has had the momentum update of step t − 1. Reports "NAME".
/// </summary>
public sealed class MocoLoss : DistillationLoss
{
    private readonly EmbeddingQueue _queue;
    private Tensor? _pendingKeys;

    /// <summary>Creates the term.</summary>
    /// <param name="feature">The query participant's feature holding its projections of the query view.</param>
    /// <param name="encoder">The query encoder (the participant's module) and the key encoder (owned by this loss).</param>
    /// <param name="width">D, the projection width (the queue's width).</param>
    /// <param name="dataSize">N, the training set's size: the queue may not be larger.</param>
    /// <param name="queueSize">K, the number of queued negatives (MoCo: 65536; at most N).</param>
    /// <param name="temperature">τ &gt; 0 (MoCo v2: 0.2).</param>
    /// <param name="seed">Seed of the queue's initial entries.</param>
    /// <param name="keyInput">The key encoder's input from the batch; <c>null</c>: the second view of a two-view batch (<see cref="Data.TwoViews.Split"/>).</param>
    /// <param name="query">The query participant (trained).</param>
    /// <param name="name">Reporting name (default "moco").</param>
    /// <exception cref="ArgumentOutOfRangeException">K is below 1 or above N, D or N is below 1, or τ &lt;= 0.</exception>
    /// <exception cref="ArgumentException">A name is empty.</exception>
    public MocoLoss(string feature, MomentumEncoder encoder, long width, long dataSize, int queueSize = 65536, double temperature = 0.2, long seed = 0, Func<Data.Batch, Tensor>? keyInput = null, string query = "student", string name = "moco")
        : base(name)
    {
        Feature = Guard.Name(feature, nameof(feature));
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        DataSize = dataSize;
        QueueSize = EmbeddingChecks.QueueSize(queueSize, dataSize, nameof(queueSize));
        Temperature = Guard.Positive(temperature, nameof(temperature));
        KeyInput = keyInput ?? SecondView;
        Query = Guard.Name(query, nameof(query));
        _queue = new EmbeddingQueue(queueSize, width, seed);
    }

    /// <summary>The query participant's projection feature.</summary>
    public string Feature { get; }

    /// <summary>The key encoder's input from the batch.</summary>
    public Func<Data.Batch, Tensor> KeyInput { get; }

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

    /// <summary>The queue of past keys.</summary>
    public EmbeddingQueue Queue => _queue;

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Feature(Query, Feature);

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> FrozenModules => new nn.Module[] { Encoder.Key };

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => new[] { _queue.State($"{Name}.queue") };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The queries and keys differ in batch or width, or their width is not the queue's.</exception>
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (q, k) = ReadPair(context, Feature, Query, Encoder.Key, KeyInput, _queue.Width, "MoCo");
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

    /// <summary>The second view of a two-view batch.</summary>
    internal static Tensor SecondView(Data.Batch batch) => Data.TwoViews.Split(batch.Inputs).Second;

    /// <summary>Unit queries (the participant's feature) and unit keys (the key encoder's output, no gradient) [B, D], checked.</summary>
    internal static (Tensor Query, Tensor Key) ReadPair(DistillationContext context, string feature, string query, nn.Module<Tensor, Tensor> key, Func<Data.Batch, Tensor> keyInput, long width, string method)
    {
        var queryWhat = $"feature '{feature}' of '{query}'";
        const string keyWhat = "key encoder's output";
        var q = EmbeddingChecks.Flat(context.Output(query).Feature(feature, query), queryWhat);
        Tensor raw;
        using (no_grad())
        {
            raw = key.call(keyInput(context.Batch));
        }

        var k = EmbeddingChecks.Flat(raw, keyWhat);
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
    /// <param name="feature">The query participant's projection feature.</param>
    /// <param name="encoder">The query encoder and the loss-owned key encoder.</param>
    /// <param name="width">D, the projection width.</param>
    /// <param name="dataSize">N, the training set's size.</param>
    /// <param name="queueSize">K &lt;= N.</param>
    /// <param name="temperature">τ &gt; 0.</param>
    /// <param name="seed">Seed of the queue's initial entries.</param>
    /// <param name="keyInput">The key encoder's input; <c>null</c>: the second view of a two-view batch.</param>
    /// <param name="query">The query participant.</param>
    /// <param name="name">Reporting name.</param>
    public static MocoLoss Moco(string feature, MomentumEncoder encoder, long width, long dataSize, int queueSize = 65536, double temperature = 0.2, long seed = 0, Func<Data.Batch, Tensor>? keyInput = null, string query = "student", string name = "moco") =>
        new(feature, encoder, width, dataSize, queueSize, temperature, seed, keyInput, query, name);
}
