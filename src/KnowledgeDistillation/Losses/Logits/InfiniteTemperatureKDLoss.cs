using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The T → ∞ limit of the T²-scaled KD loss (Chen et al., "Exploring the Connection between Knowledge
/// Distillation and Logits Matching"): <c>1/(2K) · Σ_k (d_k − mean(d))²</c> with <c>d = z − v</c>, batch mean.
/// It equals logit matching minus <c>½ mean(d)²</c>, so it ignores a constant shift of the student's logits,
/// and coincides with <see cref="LogitMatchingLoss"/> when student and teacher logits have equal class means
/// (equal-mean initialisation). Besides its value it reports, for analysis, the plain logit-matching value
/// (<c>{name}.logit-mse</c>) and the mean-gap term <c>½ mean(d)²</c> (<c>{name}.mean-gap</c>), whose batch mean
/// is zero exactly when the equal-mean condition holds.
/// </summary>
public sealed class InfiniteTemperatureKDLoss : StudentTeacherLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "kd-inf").</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits (default true).</param>
    public InfiniteTemperatureKDLoss(string student = "student", string teacher = "teacher", string name = "kd-inf", bool detachTeacher = true)
        : base(name, student, teacher, detachTeacher)
    {
    }

    /// <summary><c>1/(2K·B) · Σ_i ‖d_i − mean(d_i)‖²</c> with <c>d = z − v</c>. Gradient: <c>(d − mean(d)) / (K·B)</c>.</summary>
    /// <param name="studentLogits">Student logits z [batch, classes].</param>
    /// <param name="teacherLogits">Teacher logits v [batch, classes].</param>
    public static Tensor Value(Tensor studentLogits, Tensor teacherLogits)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        Guard.MatchingLogits(studentLogits, "student logits", teacherLogits, "teacher logits");
        var batch = studentLogits.shape[0];
        var classes = studentLogits.shape[1];
        var d = studentLogits - teacherLogits;
        return (d - d.mean(new long[] { 1 }, keepdim: true)).square().sum() / (2.0 * classes * batch);
    }

    /// <summary>Per-sample class-mean gap <c>mean_k z_k − mean_k v_k</c> [batch]: zero under equal-mean initialisation.</summary>
    /// <param name="studentLogits">Student logits [batch, classes].</param>
    /// <param name="teacherLogits">Teacher logits [batch, classes].</param>
    public static Tensor MeanGap(Tensor studentLogits, Tensor teacherLogits)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        Guard.MatchingLogits(studentLogits, "student logits", teacherLogits, "teacher logits");
        return (studentLogits - teacherLogits).mean(new long[] { 1 });
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        var (student, teacher) = Logits(context);
        var value = Value(student, teacher);
        var parts = new Dictionary<string, Tensor>
        {
            [Name] = value,
            [$"{Name}.logit-mse"] = LogitMatchingLoss.Value(student.detach(), teacher.detach()),
            [$"{Name}.mean-gap"] = MeanGap(student.detach(), teacher.detach()).square().mean() / 2.0,
        };
        return new LossResult(value, parts);
    }
}

public static partial class Loss
{
    /// <summary>
    /// The T → ∞ limit of T²-scaled KD (Chen et al., "Exploring the Connection between Knowledge Distillation and Logits
    /// Matching", arXiv 2109.06458; the limit itself is in Hinton et al. 2015, §2.1). Reports "NAME", "NAME.logit-mse" and
    /// "NAME.mean-gap".
    /// </summary>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    public static InfiniteTemperatureKDLoss InfiniteTemperatureKD(string student = "student", string teacher = "teacher", string name = "kd-inf", bool detachTeacher = true) =>
        new(student, teacher, name, detachTeacher);
}
