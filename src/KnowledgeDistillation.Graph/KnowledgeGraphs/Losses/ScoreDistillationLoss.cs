using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Plain score distillation for KGE students (DualDE's d_score with constant weights): the student's sigmoid scores match the
/// teacher's under a Huber distance, <c>mean_b l(σ f_S(x_b) − σ f_T(x_b)) + mean_b Σ_j w_bj l(σ f_S(x'_bj) − σ f_T(x'_bj))</c>, with the
/// student's self-adversarial weights w. Compose with the hard loss: <c>new SelfAdversarialLoss() + new ScoreDistillationLoss()</c>.
/// </summary>
public sealed class ScoreDistillationLoss : Losses.DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="adversarialTemperature">α &gt; 0 for pooling negatives, or <c>null</c> for a plain mean (default 1).</param>
    /// <param name="detachTeacher">Whether no gradient reaches the teacher (default true).</param>
    /// <param name="name">Reporting name (default "score-kd").</param>
    public ScoreDistillationLoss(string student = "student", string teacher = "teacher", double? adversarialTemperature = 1.0, bool detachTeacher = true, string name = "score-kd")
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(student);
        ArgumentException.ThrowIfNullOrWhiteSpace(teacher);
        if (adversarialTemperature is { } a && (!(a > 0) || double.IsInfinity(a)))
        {
            throw new ArgumentOutOfRangeException(nameof(adversarialTemperature), a, "'adversarialTemperature' must be a finite number > 0, or null.");
        }
        Student = student;
        Teacher = teacher;
        AdversarialTemperature = adversarialTemperature;
        DetachTeacher = detachTeacher;
    }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>α, or <c>null</c>.</summary>
    public double? AdversarialTemperature { get; }

    /// <summary>Whether the teacher's scores are detached.</summary>
    public bool DetachTeacher { get; }

    /// <summary>DualDE's d_score, element-wise: <c>Huber(σ(student) − σ(teacher))</c> (at most 0.5 since |difference| &lt; 1).</summary>
    /// <param name="student">Student scores.</param>
    /// <param name="teacher">Teacher scores of the same shape.</param>
    public static Tensor ScoreDistance(Tensor student, Tensor teacher)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        KgeLossMath.SameShape(student, nameof(student), teacher, nameof(teacher));
        return KgeLossMath.Huber(sigmoid(student) - sigmoid(teacher));
    }

    /// <summary>The loss value (see the class summary).</summary>
    /// <param name="studentPositive">Student scores of the positives [B].</param>
    /// <param name="studentNegative">Student scores of the negatives [B, N].</param>
    /// <param name="teacherPositive">Teacher scores of the positives [B].</param>
    /// <param name="teacherNegative">Teacher scores of the negatives [B, N].</param>
    /// <param name="adversarialTemperature">α, or <c>null</c>.</param>
    /// <param name="subsamplingWeights">Per-triple weights [B] for weighted batch means, or <c>null</c> (plain means).</param>
    public static Tensor Value(Tensor studentPositive, Tensor studentNegative, Tensor teacherPositive, Tensor teacherNegative, double? adversarialTemperature, Tensor? subsamplingWeights = null)
    {
        KgeLossMath.CheckPositives(studentPositive, nameof(studentPositive));
        KgeLossMath.CheckNegatives(studentNegative, studentPositive, nameof(studentNegative));
        var weights = KgeLossMath.NegativeWeights(studentNegative, adversarialTemperature);
        return KgeLossMath.Mean(ScoreDistance(studentPositive, teacherPositive), subsamplingWeights)
            + KgeLossMath.Mean((weights * ScoreDistance(studentNegative, teacherNegative)).sum(1), subsamplingWeights);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None
        .Feature(Student, KgeParticipant.PositiveScores).Feature(Student, KgeParticipant.NegativeScores)
        .Feature(Teacher, KgeParticipant.PositiveScores).Feature(Teacher, KgeParticipant.NegativeScores);

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var s = context.Output(Student);
        var t = context.Output(Teacher);
        var tPos = t.Feature(KgeParticipant.PositiveScores, Teacher);
        var tNeg = t.Feature(KgeParticipant.NegativeScores, Teacher);
        return new LossResult(Name, Value(
            s.Feature(KgeParticipant.PositiveScores, Student),
            s.Feature(KgeParticipant.NegativeScores, Student),
            DetachTeacher ? tPos.detach() : tPos,
            DetachTeacher ? tNeg.detach() : tNeg,
            AdversarialTemperature,
            KgeLossMath.SubsamplingWeights(context)));
    }
}
