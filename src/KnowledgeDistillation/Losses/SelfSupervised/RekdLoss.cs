using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// ReKD, relation-wise contrastive learning with relation knowledge distillation (Zheng, Wang and Yuan, "Boosting
/// Contrastive Learning with Relation Knowledge Distillation", AAAI 2022, arXiv 2112.04174). The student learns by MoCo v2
/// (queries q from the student's feature, keys k from its loss-owned momentum key encoder on the other view, a queue of past
/// keys a_j as anchors) and a frozen,
/// heterogeneous teacher supplies relations between each sample and the anchors: a parallel queue keeps the teacher's
/// embedding of every queued sample. With the student's log-probabilities over the candidates
/// <c>log p = log_softmax([q·k, q·a_1, ..., q·a_K] / τ)</c>, <c>L_ins = −(1/B) Σ_i log p_i0</c> (MoCo) and
/// <c>L_rel = −(1/B) Σ_i Σ_j w_ij log p_ij</c> with the teacher's targets w (<see cref="IRekdRelation"/>: the
/// supervised-contrastive form with mined positives, or a soft distribution); the term is <c>L_ins + λ L_rel</c>.
/// After the optimiser step the key encoder takes its momentum step and the keys and teacher embeddings are enqueued
/// together; both queues are checkpointed loss state, the key encoder a frozen loss module (saved with the loss modules). No official code is released: the loss form is
/// reconstructed from the paper (docs/methods/rekd.md says what is ours). Reports "NAME", "NAME.instance", "NAME.relation".
/// </summary>
public sealed class RekdLoss : DistillationLoss
{
    private readonly EmbeddingQueue _keys;
    private readonly EmbeddingQueue _teacherAnchors;
    private (Tensor Keys, Tensor Teacher)? _pending;

    /// <summary>Creates the term.</summary>
    /// <param name="feature">The query participant's projection feature.</param>
    /// <param name="teacherFeature">The teacher participant's embedding feature.</param>
    /// <param name="encoder">The student's query and key encoders.</param>
    /// <param name="width">D, the student's projection width.</param>
    /// <param name="teacherWidth">D_t, the teacher's embedding width (may differ from D: relations are computed in the teacher's space).</param>
    /// <param name="dataSize">N, the training set's size: the queue may not be larger.</param>
    /// <param name="relation">How the teacher's relations become targets (<see cref="NearestAnchorRelation"/> or <see cref="SoftRelation"/>).</param>
    /// <param name="queueSize">K &lt;= N.</param>
    /// <param name="temperature">τ &gt; 0 (MoCo v2: 0.2).</param>
    /// <param name="relationWeight">λ &gt;= 0.</param>
    /// <param name="seed">Seed of the queues' initial entries.</param>
    /// <param name="keyInput">The key encoder's input from the batch; <c>null</c>: the second view of a two-view batch.</param>
    /// <param name="query">The student (query) participant.</param>
    /// <param name="teacher">The teacher participant.</param>
    /// <param name="name">Reporting name (default "rekd").</param>
    /// <exception cref="ArgumentOutOfRangeException">K is below 1 or above N, τ &lt;= 0 or λ &lt; 0.</exception>
    /// <exception cref="ArgumentException">A name is empty or the two participants coincide.</exception>
    public RekdLoss(string feature, string teacherFeature, MomentumEncoder encoder, long width, long teacherWidth, long dataSize, IRekdRelation relation, int queueSize = 65536, double temperature = 0.2, double relationWeight = 1.0, long seed = 0, Func<Data.Batch, Tensor>? keyInput = null, string query = "student", string teacher = "teacher", string name = "rekd")
        : base(name)
    {
        Feature = Guard.Name(feature, nameof(feature));
        KeyInput = keyInput ?? MocoLoss.SecondView;
        TeacherFeature = Guard.Name(teacherFeature, nameof(teacherFeature));
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        Relation = relation ?? throw new ArgumentNullException(nameof(relation));
        DataSize = dataSize;
        QueueSize = EmbeddingChecks.QueueSize(queueSize, dataSize, nameof(queueSize));
        Temperature = Guard.Positive(temperature, nameof(temperature));
        RelationWeight = Guard.NonNegative(relationWeight, nameof(relationWeight));
        Query = Guard.Name(query, nameof(query));
        Teacher = Guard.Name(teacher, nameof(teacher));
        if (Query == Teacher)
        {
            throw new ArgumentException($"The student and teacher participants must differ; both are '{Query}'.", nameof(teacher));
        }

        _keys = new EmbeddingQueue(queueSize, width, seed, stream: 11);
        _teacherAnchors = new EmbeddingQueue(queueSize, teacherWidth, seed, stream: 13);
    }

    /// <summary>The query participant's projection feature.</summary>
    public string Feature { get; }

    /// <summary>The key encoder's input from the batch.</summary>
    public Func<Data.Batch, Tensor> KeyInput { get; }

    /// <summary>The teacher's embedding feature.</summary>
    public string TeacherFeature { get; }

    /// <summary>The student's query and key encoders.</summary>
    public MomentumEncoder Encoder { get; }

    /// <summary>The teacher's relation targets.</summary>
    public IRekdRelation Relation { get; }

    /// <summary>N.</summary>
    public long DataSize { get; }

    /// <summary>K.</summary>
    public int QueueSize { get; }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>λ.</summary>
    public double RelationWeight { get; }

    /// <summary>The query participant.</summary>
    public string Query { get; }

    /// <summary>The teacher participant.</summary>
    public string Teacher { get; }

    /// <summary>The queue of the student's past keys (the anchors).</summary>
    public EmbeddingQueue Keys => _keys;

    /// <summary>The queue of the teacher's embeddings of the same samples.</summary>
    public EmbeddingQueue TeacherAnchors => _teacherAnchors;

    /// <inheritdoc />
    public override LossRequirements Requirements =>
        LossRequirements.None.Feature(Query, Feature).Feature(Teacher, TeacherFeature);

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> FrozenModules => new nn.Module[] { Encoder.Key };

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => new[]
    {
        _keys.State($"{Name}.queue"), _teacherAnchors.State($"{Name}.teacher-queue"),
    };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">Queries and keys differ in shape or are not the queue's width, or the teacher's embeddings are not [B, D_t].</exception>
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (q, k) = MocoLoss.ReadPair(context, Feature, Query, Encoder.Key, KeyInput, _keys.Width, "ReKD");
        var teacherWhat = $"feature '{TeacherFeature}' of '{Teacher}'";
        var zt = EmbeddingChecks.Flat(context.Output(Teacher).Feature(TeacherFeature, Teacher), teacherWhat);
        if (zt.shape[0] != q.shape[0] || zt.shape[1] != _teacherAnchors.Width)
        {
            throw new ArgumentException($"The {teacherWhat} must be [{q.shape[0]}, {_teacherAnchors.Width}] (the batch, the teacher width the loss was built for); got {Guard.Shape(zt)}.", teacherWhat);
        }

        Guard.SameDevice(zt, teacherWhat, q, "the student's projections");
        var t = EmbeddingChecks.Unit(zt.detach().to_type(q.dtype));
        var logp = MocoLoss.Logits(q, k, _keys.EntriesLike(q), Temperature).log_softmax(1);
        var targets = Relation.Targets(t, _teacherAnchors.EntriesLike(t));
        var instance = -logp.select(1, 0).mean();
        var relation = -(targets * logp).sum(1).mean();
        var total = instance + (RelationWeight * relation);
        Forget();
        _pending = (k.clone().DetachFromDisposeScope(), t.clone().DetachFromDisposeScope());
        return new LossResult(total, new Dictionary<string, Tensor>
        {
            [Name] = total,
            [$"{Name}.instance"] = instance.detach(),
            [$"{Name}.relation"] = relation.detach(),
        });
    }

    /// <summary>Moves the key encoder one momentum step and enqueues the last <see cref="Compute"/>'s keys and teacher embeddings.</summary>
    /// <param name="context">The step's context.</param>
    public override void OnStepEnd(DistillationContext context)
    {
        if (_pending is not { } pending)
        {
            return;
        }

        Encoder.Update();
        _keys.Enqueue(pending.Keys);
        _teacherAnchors.Enqueue(pending.Teacher);
        Forget();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Forget();
            _keys.Dispose();
            _teacherAnchors.Dispose();
        }
    }

    private void Forget()
    {
        if (_pending is { } pending)
        {
            pending.Keys.Dispose();
            pending.Teacher.Dispose();
            _pending = null;
        }
    }
}

public static partial class Loss
{
    /// <summary>
    /// Zheng, Wang and Yuan (2022), ReKD: MoCo v2 instance contrast plus a relation-wise contrastive term whose targets a
    /// frozen teacher mines among the queued anchors (see <see cref="RekdLoss"/>). Reports "NAME", "NAME.instance",
    /// "NAME.relation".
    /// </summary>
    /// <param name="feature">The query participant's projection feature.</param>
    /// <param name="teacherFeature">The teacher's embedding feature.</param>
    /// <param name="encoder">The student's query and key encoders.</param>
    /// <param name="width">D.</param>
    /// <param name="teacherWidth">D_t.</param>
    /// <param name="dataSize">N.</param>
    /// <param name="relation">The teacher's relation targets; <c>null</c>: <see cref="NearestAnchorRelation"/> with 5 positives.</param>
    /// <param name="queueSize">K &lt;= N.</param>
    /// <param name="temperature">τ.</param>
    /// <param name="relationWeight">λ.</param>
    /// <param name="seed">Seed of the queues.</param>
    /// <param name="keyInput">The key encoder's input; <c>null</c>: the second view of a two-view batch.</param>
    /// <param name="query">The student (query) participant.</param>
    /// <param name="teacher">The teacher participant.</param>
    /// <param name="name">Reporting name.</param>
    public static RekdLoss Rekd(string feature, string teacherFeature, MomentumEncoder encoder, long width, long teacherWidth, long dataSize, IRekdRelation? relation = null, int queueSize = 65536, double temperature = 0.2, double relationWeight = 1.0, long seed = 0, Func<Data.Batch, Tensor>? keyInput = null, string query = "student", string teacher = "teacher", string name = "rekd") =>
        new(feature, teacherFeature, encoder, width, teacherWidth, dataSize, relation ?? new NearestAnchorRelation(), queueSize, temperature, relationWeight, seed, keyInput, query, teacher, name);
}
