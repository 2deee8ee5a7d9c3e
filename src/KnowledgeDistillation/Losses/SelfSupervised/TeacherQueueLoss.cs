using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The machinery SEED and CompRess share: the student's and the frozen teacher's embeddings of a batch, scaled to unit rows,
/// are compared with a queue of the teacher's past embeddings (the anchors); a derived term turns those similarities into a
/// value. After the optimiser step (<see cref="OnStepEnd"/>) the batch's teacher embeddings are enqueued; the queue is
/// checkpointed loss state ("NAME.queue"). Student and teacher embeddings must have one width (a student head that projects
/// to the teacher's width is part of the student).
/// </summary>
public abstract class TeacherQueueLoss : DistillationLoss
{
    private readonly EmbeddingQueue _queue;
    private Tensor? _pending;

    /// <summary>Creates the term.</summary>
    /// <param name="feature">The student's and the teacher's embedding features.</param>
    /// <param name="width">D, the embeddings' width.</param>
    /// <param name="dataSize">N, the training set's size: the queue may not be larger.</param>
    /// <param name="queueSize">K, the number of anchors.</param>
    /// <param name="seed">Seed of the queue's initial entries.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    /// <exception cref="ArgumentOutOfRangeException">K is below 1 or above N, or D is below 1.</exception>
    protected TeacherQueueLoss(FeaturePair feature, long width, long dataSize, int queueSize, long seed, string student, string teacher, string name)
        : base(name)
    {
        Feature = feature ?? throw new ArgumentNullException(nameof(feature));
        DataSize = dataSize;
        QueueSize = EmbeddingChecks.QueueSize(queueSize, dataSize, nameof(queueSize));
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        _queue = new EmbeddingQueue(queueSize, width, seed);
    }

    /// <summary>The student's and the teacher's embedding features.</summary>
    public FeaturePair Feature { get; }

    /// <summary>N, the training set's size.</summary>
    public long DataSize { get; }

    /// <summary>K, the number of anchors.</summary>
    public int QueueSize { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>The queue of the teacher's past embeddings.</summary>
    public EmbeddingQueue Queue => _queue;

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Feature(Student, Feature.Student).Feature(Teacher, Feature.Teacher);

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => new[] { _queue.State($"{Name}.queue") };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The embeddings differ in batch, width (no projection to the teacher's width), dtype or device, or their width is not the queue's.</exception>
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentWhat = $"feature '{Feature.Student}' of '{Student}'";
        var teacherWhat = $"feature '{Feature.Teacher}' of '{Teacher}'";
        var zs = EmbeddingChecks.Flat(context.Output(Student).Feature(Feature.Student, Student), studentWhat);
        var zt = EmbeddingChecks.Flat(context.Output(Teacher).Feature(Feature.Teacher, Teacher), teacherWhat);
        EmbeddingChecks.SamePair(zs, studentWhat, zt, teacherWhat, "the student's embedding must be projected to the teacher's width (add a projection head to the student).");
        if (zs.shape[1] != _queue.Width)
        {
            throw new ArgumentException($"The {studentWhat} has {zs.shape[1]} values per sample, but the {Name} queue holds {_queue.Width}-wide embeddings.", studentWhat);
        }

        var s = EmbeddingChecks.Unit(zs);
        var t = EmbeddingChecks.Unit(zt.detach());
        var value = Value(s, t, _queue.EntriesLike(s));
        Forget();
        _pending = t.clone().DetachFromDisposeScope();
        return new LossResult(Name, value);
    }

    /// <summary>Enqueues the last <see cref="Compute"/>'s teacher embeddings.</summary>
    /// <param name="context">The step's context.</param>
    public override void OnStepEnd(DistillationContext context)
    {
        if (_pending is { } pending)
        {
            _queue.Enqueue(pending);
            Forget();
        }
    }

    /// <summary>The term's value for unit student and teacher embeddings [B, D] and the anchors [K, D] (detached).</summary>
    /// <param name="student">The student's unit embeddings (with gradient).</param>
    /// <param name="teacher">The teacher's unit embeddings (detached).</param>
    /// <param name="anchors">The queue's entries.</param>
    /// <returns>A scalar.</returns>
    protected abstract Tensor Value(Tensor student, Tensor teacher, Tensor anchors);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Forget();
            _queue.Dispose();
        }
    }

    private void Forget()
    {
        _pending?.Dispose();
        _pending = null;
    }
}
