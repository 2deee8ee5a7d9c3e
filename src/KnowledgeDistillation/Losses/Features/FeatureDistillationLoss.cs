using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Base of terms that compare student features with teacher features, stage by stage (attention transfer, similarity
/// preservation, PKT, RKD, NST, ...): holds the feature pairs and the participants, declares the features it reads, checks
/// each pair's batch size, dtype and device, and sums the per-stage values. Reports "NAME" and, with several stages,
/// "NAME.stage1", "NAME.stage2", ... (unweighted per-stage values).
/// </summary>
public abstract class FeatureDistillationLoss : DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="name">Reporting name.</param>
    /// <param name="features">The compared feature pairs, one per stage: at least one.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <exception cref="ArgumentException">No pairs, a null pair, or an invalid participant name.</exception>
    protected FeatureDistillationLoss(string name, IReadOnlyList<FeaturePair> features, string student, string teacher, bool detachTeacher)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Count == 0 || features.Any(f => f is null))
        {
            throw new ArgumentException("A feature term needs at least one (non-null) student/teacher feature pair.", nameof(features));
        }

        Features = features.ToArray();
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        DetachTeacher = detachTeacher;
    }

    /// <summary>The compared feature pairs, one per stage.</summary>
    public IReadOnlyList<FeaturePair> Features { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>Whether the teacher's features are detached (true for a frozen teacher).</summary>
    public bool DetachTeacher { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements =>
        Features.Aggregate(LossRequirements.None, (r, f) => r.Feature(Student, f.Student).Feature(Teacher, f.Teacher));

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        var stages = Read(context).Select(p => Stage(p.Student, p.Teacher, p.StudentWhat, p.TeacherWhat)).ToArray();
        var total = stages.Skip(1).Aggregate(stages[0], (sum, s) => sum + s);
        var parts = new Dictionary<string, Tensor> { [Name] = total };
        if (stages.Length > 1)
        {
            for (var i = 0; i < stages.Length; i++)
            {
                parts[$"{Name}.stage{i + 1}"] = stages[i].detach();
            }
        }

        return new LossResult(total, parts);
    }

    /// <summary>The term's value for one stage.</summary>
    /// <param name="student">The student's feature (already checked against the teacher's batch size, dtype and device).</param>
    /// <param name="teacher">The teacher's feature (detached when <see cref="DetachTeacher"/>).</param>
    /// <param name="studentWhat">The student feature's description for errors.</param>
    /// <param name="teacherWhat">The teacher feature's description for errors.</param>
    protected abstract Tensor Stage(Tensor student, Tensor teacher, string studentWhat, string teacherWhat);

    /// <summary>Every pair's student and teacher feature for the batch, with their descriptions, checked by <see cref="CheckPair"/>.</summary>
    /// <param name="context">The step's context.</param>
    protected IReadOnlyList<(Tensor Student, Tensor Teacher, string StudentWhat, string TeacherWhat)> Read(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentOutput = context.Output(Student);
        var teacherOutput = context.Output(Teacher);
        return Features.Select(f =>
        {
            var studentWhat = $"feature '{f.Student}' of '{Student}'";
            var teacherWhat = $"feature '{f.Teacher}' of '{Teacher}'";
            var s = studentOutput.Feature(f.Student, Student);
            var t = teacherOutput.Feature(f.Teacher, Teacher);
            CheckPair(s, studentWhat, t, teacherWhat);
            return (s, DetachTeacher ? t.detach() : t, studentWhat, teacherWhat);
        }).ToArray();
    }

    /// <summary>
    /// Checks that two features are floating point of one dtype, on one device, with the same (non-zero) batch size.
    /// </summary>
    /// <param name="student">The student's feature.</param>
    /// <param name="studentWhat">Its description (the exception's parameter name).</param>
    /// <param name="teacher">The teacher's feature.</param>
    /// <param name="teacherWhat">Its description.</param>
    /// <exception cref="ArgumentException">The dtypes, devices or batch sizes differ, or a feature is a scalar or empty.</exception>
    public static void CheckPair(Tensor student, string studentWhat, Tensor teacher, string teacherWhat)
    {
        ArgumentNullException.ThrowIfNull(student, studentWhat);
        ArgumentNullException.ThrowIfNull(teacher, teacherWhat);
        Guard.FloatingPoint(student, studentWhat);
        Guard.FloatingPoint(teacher, teacherWhat);
        if (student.dim() < 2 || teacher.dim() < 2 || student.numel() == 0 || teacher.numel() == 0)
        {
            throw new ArgumentException(
                $"Features must be non-empty [batch, ...] tensors; got {studentWhat} {Guard.Shape(student)} and {teacherWhat} {Guard.Shape(teacher)}.", studentWhat);
        }

        if (student.shape[0] != teacher.shape[0])
        {
            throw new ArgumentException(
                $"Batch sizes differ: {studentWhat} {Guard.Shape(student)} vs {teacherWhat} {Guard.Shape(teacher)}.", studentWhat);
        }

        if (student.dtype != teacher.dtype)
        {
            throw new ArgumentException($"{studentWhat} is {student.dtype} but {teacherWhat} is {teacher.dtype}.", studentWhat);
        }

        Guard.SameDevice(student, studentWhat, teacher, teacherWhat);
    }

    /// <summary>
    /// Two feature maps [batch, channels, H, W] brought to one spatial size: the larger (per dimension) is adaptively
    /// average-pooled to the smaller's H and W (as mdistiller and RepDistiller do for AT and NST, which pool to the teacher's
    /// or student's H on both sides; for square maps this is the same).
    /// </summary>
    /// <param name="student">The student's map (rank 4).</param>
    /// <param name="teacher">The teacher's map (rank 4).</param>
    public static (Tensor Student, Tensor Teacher) MatchSpatialSize(Tensor student, Tensor teacher)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var size = new[] { Math.Min(student.shape[2], teacher.shape[2]), Math.Min(student.shape[3], teacher.shape[3]) };
        Tensor Pool(Tensor map) => map.shape[2] == size[0] && map.shape[3] == size[1] ? map : nn.functional.adaptive_avg_pool2d(map, size);
        return (Pool(student), Pool(teacher));
    }

    /// <summary>Checks that a feature is a map [batch, channels, H, W].</summary>
    /// <param name="feature">The feature.</param>
    /// <param name="what">Its description (the exception's parameter name).</param>
    /// <exception cref="ArgumentException">The feature is not rank 4.</exception>
    protected static Tensor RequireMap(Tensor feature, string what) => Guard.Rank(feature, 4, what, "[batch, channels, H, W]");

    /// <summary>A feature flattened per sample to [batch, D].</summary>
    /// <param name="feature">A feature [batch, ...].</param>
    protected static Tensor Flatten(Tensor feature)
    {
        ArgumentNullException.ThrowIfNull(feature);
        return feature.reshape(feature.shape[0], -1);
    }
}
