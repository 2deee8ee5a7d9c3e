using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The distillation term of Amik et al. (2022), "Dynamic Rectification Knowledge Distillation" (DR-KD, arXiv 2201.11319):
/// the student is its own teacher; where the self-teacher's arg-max is wrong, its logits of the predicted and the true
/// class are swapped (rectified) before the usual KD term: <c>T² KL(softmax(r/T) ‖ softmax(z/T))</c>, batch mean. The
/// paper's objective <c>(1 − α) CE(z, y) + α · this</c> is <see cref="Loss.DrKd"/> (or <see cref="Recipes.DrKd"/>).
/// </summary>
public sealed class DrKdLoss : DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="selfTeacher">Where the self-teacher's logits come from; default <see cref="DynamicSelfTeacher"/> (no extra cost, as the paper claims).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name (default "drkd"); diagnostic part "NAME.rectified" (fraction of swapped samples).</param>
    public DrKdLoss(double temperature = 4.0, ISelfTeacherSource? selfTeacher = null, string student = "student", string name = "drkd")
        : base(name)
    {
        Temperature = Guard.Positive(temperature, nameof(temperature));
        SelfTeacher = selfTeacher ?? DynamicSelfTeacher.Instance;
        Student = Guard.Name(student, nameof(student));
    }

    /// <summary>The softmax temperature.</summary>
    public double Temperature { get; }

    /// <summary>The self-teacher's source.</summary>
    public ISelfTeacherSource SelfTeacher { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>
    /// The rectified teacher logits: a detached copy of <paramref name="teacherLogits"/> in which, for every sample whose
    /// arg-max m (the first maximum) is not its label y, entries m and y are exchanged. A sample whose label logit equals
    /// the maximum (a tie) counts as correct and is left as is. The input is never modified.
    /// </summary>
    /// <param name="teacherLogits">Self-teacher logits [B, K], K &gt;= 2.</param>
    /// <param name="targets">Labels, int64 [B] in [0, K).</param>
    /// <exception cref="ArgumentException">Shapes, types or label range are wrong, or K &lt; 2.</exception>
    public static Tensor Rectify(Tensor teacherLogits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(teacherLogits);
        ArgumentNullException.ThrowIfNull(targets);
        CheckLogits(teacherLogits, nameof(teacherLogits));
        Guard.Labels(targets, teacherLogits, nameof(targets));
        using var scope = NewDisposeScope();
        var teacher = teacherLogits.detach();
        var label = targets.unsqueeze(1);
        var max = teacher.max(1, keepdim: true).values;
        var atLabel = teacher.gather(1, label);
        var classes = teacher.shape[1];
        var columns = arange(classes, ScalarType.Int64, teacher.device).unsqueeze(0).expand_as(teacher);
        // A row with a NaN has no element equal to its (NaN) maximum: clamp the index so such a row stays in range and
        // yields a NaN loss, which the engine's non-finite check reports, instead of a native index error.
        var firstMax = where(teacher.eq(max), columns, classes).min(1, keepdim: true).values.clamp_max(classes - 1);
        var swapped = teacher.scatter(1, firstMax, atLabel).scatter(1, label, max);
        var correct = atLabel.ge(max);
        return where(correct, teacher, swapped).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The paper's whole objective (the reference <see cref="Loss.DrKd"/> reproduces):
    /// <c>(1 − α) CE(z, y) + α T² / B Σ_i KL(softmax(r_i/T) ‖ softmax(z_i/T))</c> with <c>r = Rectify(teacherLogits, y)</c>
    /// (a constant). Gradient w.r.t. z: <c>(1 − α)(softmax(z) − onehot(y))/B + α (T/B)(softmax(z/T) − softmax(r/T))</c>.
    /// </summary>
    /// <param name="studentLogits">Student logits [B, K].</param>
    /// <param name="teacherLogits">Self-teacher logits [B, K] (detached here; pass <c>studentLogits</c> for the dynamic teacher).</param>
    /// <param name="targets">Labels, int64 [B].</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="alpha">KD weight in [0, 1].</param>
    public static Tensor Value(Tensor studentLogits, Tensor teacherLogits, Tensor targets, double temperature = 4.0, double alpha = 0.9)
    {
        var (ce, kd, _) = Parts(studentLogits, teacherLogits, targets, temperature, alpha);
        return ((1 - alpha) * ce) + (alpha * kd);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Logits(Student).Targets().Indices();

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => SelfTeacher.State;

    /// <summary>Lets the self-teacher remember the step's logits (the previous-epoch teacher stores them).</summary>
    /// <param name="context">The step's context.</param>
    public override void OnStepEnd(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        SelfTeacher.Record(context, context.Output(Student).RequireLogits(Student));
    }

    /// <summary>Disposes the self-teacher source when it holds native memory (the loss owns it).</summary>
    /// <param name="disposing">True when called from <see cref="DistillationLoss.Dispose()"/>.</param>
    protected override void Dispose(bool disposing)
    {
        if (disposing && SelfTeacher is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var student = context.Output(Student).RequireLogits(Student);
        var teacher = SelfTeacher.TeacherLogits(context, student);
        var (kd, rectified) = Term(student, teacher, context.Batch.RequireTargets(), Temperature);
        return new LossResult(kd, new Dictionary<string, Tensor>
        {
            [Name] = kd,
            [$"{Name}.rectified"] = rectified,
        });
    }

    private static (Tensor Ce, Tensor Kd, Tensor Rectified) Parts(Tensor studentLogits, Tensor teacherLogits, Tensor targets, double temperature, double alpha)
    {
        Guard.InRange(alpha, 0, 1, nameof(alpha));
        var (kd, rectified) = Term(studentLogits, teacherLogits, targets, temperature);
        return (CrossEntropyLoss.Value(studentLogits, targets), kd, rectified);
    }

    private static (Tensor Kd, Tensor Rectified) Term(Tensor studentLogits, Tensor teacherLogits, Tensor targets, double temperature)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        ArgumentNullException.ThrowIfNull(targets);
        Guard.Positive(temperature, nameof(temperature));
        CheckLogits(studentLogits, nameof(studentLogits));
        Guard.MatchingLogits(studentLogits, nameof(studentLogits), teacherLogits, nameof(teacherLogits));
        var rectified = Rectify(teacherLogits, targets);
        var swappedFraction = rectified.ne(teacherLogits.detach()).any(1).to(ScalarType.Float64).mean();
        var kd = KDLoss.Value(studentLogits, rectified, temperature);
        return (kd, swappedFraction);
    }

    private static void CheckLogits(Tensor logits, string what)
    {
        Guard.Logits(logits, what);
        if (logits.shape[1] < 2)
        {
            throw new ArgumentException($"{what} must have at least 2 classes (K >= 2); got {Guard.Shape(logits)}.", what);
        }
    }
}

public static partial class Loss
{
    /// <summary>
    /// DR-KD's term (Amik et al. 2022, "Dynamic Rectification Knowledge Distillation", arXiv 2201.11319): KD from the
    /// student's rectified self-teacher. Reports "NAME" and "NAME.rectified".
    /// </summary>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="selfTeacher">Where the self-teacher's logits come from (default the dynamic teacher).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static DrKdLoss RectifiedKD(double temperature = 4.0, ISelfTeacherSource? selfTeacher = null, string student = "student", string name = "drkd") =>
        new(temperature, selfTeacher, student, name);

    /// <summary>
    /// DR-KD's objective (Amik et al. 2022, "Dynamic Rectification Knowledge Distillation", arXiv 2201.11319):
    /// <c>(1 − α) CE(z, y) + α · <see cref="RectifiedKD"/></c>. Parts "ce", "drkd", "drkd.rectified".
    /// </summary>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="alpha">Weight of the KD term in [0, 1]; CE gets 1 − alpha.</param>
    /// <param name="selfTeacher">Where the self-teacher's logits come from (default the dynamic teacher).</param>
    /// <param name="student">The student's participant name.</param>
    public static DistillationLoss DrKd(double temperature = 4.0, double alpha = 0.9, ISelfTeacherSource? selfTeacher = null, string student = "student")
    {
        Guard.InRange(alpha, 0, 1, nameof(alpha));
        return (1 - alpha) * new CrossEntropyLoss(student) + alpha * new DrKdLoss(temperature, selfTeacher, student);
    }
}

public static partial class Recipes
{
    /// <summary>
    /// DR-KD (Amik et al. 2022, "Dynamic Rectification Knowledge Distillation", arXiv 2201.11319): one stage of
    /// <see cref="Loss.DrKd"/>; the only participant is the student.
    /// </summary>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="alpha">Weight of the KD term in [0, 1].</param>
    /// <param name="selfTeacher">Where the self-teacher's logits come from (default the dynamic teacher).</param>
    /// <param name="student">The student's participant name.</param>
    public static DistillationRecipe DrKd(double temperature = 4.0, double alpha = 0.9, ISelfTeacherSource? selfTeacher = null, string student = "student") =>
        DistillationRecipe.FromLoss("drkd", Loss.DrKd(temperature, alpha, selfTeacher, student));
}
