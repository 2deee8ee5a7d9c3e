using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// FTD, full topology distillation (Kang et al. 2021, "Topology Distillation for Recommender System", KDD, Sec. 3.1): over
/// the batch's n distinct users and items, <c>Σ_{a,b} (sim(T,T)_{ab} − sim(S,S)_{ab})²</c> (all n² cosine entries, diagonal
/// included, summed). The teacher is detached. Weight it with λ (the paper: 1e-3) next to <see cref="BprLoss"/>.
/// Reports "NAME".
/// </summary>
public sealed class FullTopologyLoss : Losses.DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "ftd").</param>
    public FullTopologyLoss(string student = "student", string teacher = "teacher", string name = "ftd")
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(student);
        ArgumentException.ThrowIfNullOrWhiteSpace(teacher);
        Student = student;
        Teacher = teacher;
    }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>The value for teacher rows [n, d_t] and student rows [n, d_s] of the same entities.</summary>
    /// <param name="teacher">Teacher rows.</param>
    /// <param name="student">Student rows.</param>
    public static Tensor Value(Tensor teacher, Tensor student)
    {
        Guard.BatchSize(student, teacher.shape[0], nameof(student));
        using var scope = NewDisposeScope();
        return (TopologyMath.Cosine(teacher, teacher) - TopologyMath.Cosine(student, student)).pow(2).sum().MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None
        .Feature(Student, RecommenderParticipant.Users).Feature(Student, RecommenderParticipant.Items)
        .Feature(Teacher, RecommenderParticipant.Users).Feature(Teacher, RecommenderParticipant.Items);

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (users, items) = TopologyMath.BatchEntities(context.Batch.Inputs);
        var t = TopologyMath.EntityRows(context.Output(Teacher), Teacher, users, items).detach();
        var s = TopologyMath.EntityRows(context.Output(Student), Student, users, items);
        return new LossResult(Name, Value(t, s));
    }
}
