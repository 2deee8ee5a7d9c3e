using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Base of losses that compare a student's logits with a teacher's: holds the two participant names and
/// whether the teacher's logits are detached, and reads both from the context.
/// </summary>
public abstract class StudentTeacherLoss : DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="name">Reporting name.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    protected StudentTeacherLoss(string name, string student, string teacher, bool detachTeacher)
        : base(name)
    {
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        DetachTeacher = detachTeacher;
    }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>Whether the teacher's logits are detached (true for a frozen teacher; methods with trainable peers decide).</summary>
    public bool DetachTeacher { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Logits(Student, Teacher);

    /// <summary>The student's and the teacher's logits for the batch (the teacher's detached when <see cref="DetachTeacher"/>).</summary>
    /// <param name="context">The step's context.</param>
    protected (Tensor Student, Tensor Teacher) Logits(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var student = context.Output(Student).RequireLogits(Student);
        var teacher = context.Output(Teacher).RequireLogits(Teacher);
        return (student, DetachTeacher ? teacher.detach() : teacher);
    }
}
