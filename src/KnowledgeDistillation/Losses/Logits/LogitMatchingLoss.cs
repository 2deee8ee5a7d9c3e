using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Logit matching (Ba and Caruana, 2014): squared error between student and teacher logits,
/// <c>1/(2K) · ‖z − v‖²</c> per sample, batch mean. Gradient w.r.t. the student logits: <c>(z − v) / (K·B)</c>.
/// </summary>
public sealed class LogitMatchingLoss : StudentTeacherLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "logit-mse").</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits (default true).</param>
    public LogitMatchingLoss(string student = "student", string teacher = "teacher", string name = "logit-mse", bool detachTeacher = true)
        : base(name, student, teacher, detachTeacher)
    {
    }

    /// <summary><c>1/(2K·B) · Σ_i ‖z_i − v_i‖²</c>.</summary>
    /// <param name="studentLogits">Student logits z [batch, classes].</param>
    /// <param name="teacherLogits">Teacher logits v [batch, classes].</param>
    /// <exception cref="ArgumentException">Shapes, class counts or devices differ.</exception>
    public static Tensor Value(Tensor studentLogits, Tensor teacherLogits)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        Guard.MatchingLogits(studentLogits, "student logits", teacherLogits, "teacher logits");
        var batch = studentLogits.shape[0];
        var classes = studentLogits.shape[1];
        return (studentLogits - teacherLogits).square().sum() / (2.0 * classes * batch);
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        var (student, teacher) = Logits(context);
        return new LossResult(Name, Value(student, teacher));
    }
}

public static partial class Loss
{
    /// <summary>
    /// Logit matching (Ba and Caruana 2014, "Do Deep Nets Really Need to be Deep?", NIPS): squared error between student
    /// and teacher logits. Reports "NAME".
    /// </summary>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    public static LogitMatchingLoss LogitMatching(string student = "student", string teacher = "teacher", string name = "logit-mse", bool detachTeacher = true) =>
        new(student, teacher, name, detachTeacher);
}
