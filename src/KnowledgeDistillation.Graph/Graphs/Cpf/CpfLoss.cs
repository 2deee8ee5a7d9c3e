using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// CPF's distillation objective (Yang et al., WWW 2021; official code <c>my_loss</c> mode 0): one Euclidean norm of the
/// difference between the student's and the teacher's class probabilities over all unlabelled nodes,
/// <c>L = sqrt(sum_{v in U} sum_c (softmax(s_v)_c - softmax(t_v)_c)^2)</c>. U = nodes outside the training mask.
/// </summary>
public sealed class CpfLoss : Losses.DistillationLoss
{
    private readonly string student;
    private readonly string teacher;
    private readonly string labeledMask;

    /// <summary>Creates the loss between participants <paramref name="student"/> and <paramref name="teacher"/>; labelled nodes are those in the extras mask <paramref name="labeledMask"/>.</summary>
    public CpfLoss(string student = "student", string teacher = "teacher", string labeledMask = GraphBatchSource.TrainMask)
        : base("cpf")
    {
        this.student = string.IsNullOrWhiteSpace(student) ? throw new ArgumentException("A student name is required.", nameof(student)) : student;
        this.teacher = string.IsNullOrWhiteSpace(teacher) ? throw new ArgumentException("A teacher name is required.", nameof(teacher)) : teacher;
        this.labeledMask = string.IsNullOrWhiteSpace(labeledMask) ? throw new ArgumentException("A mask name is required.", nameof(labeledMask)) : labeledMask;
    }

    /// <summary>
    /// The loss for student probabilities <paramref name="studentProbabilities"/> and teacher probabilities
    /// <paramref name="teacherProbabilities"/> (both [N, C]) over the rows where <paramref name="unlabeled"/> [N] is true.
    /// A floor of 1e-20 under the square root keeps the gradient finite at exactly zero error.
    /// </summary>
    public static Tensor Value(Tensor studentProbabilities, Tensor teacherProbabilities, Tensor unlabeled)
    {
        ArgumentNullException.ThrowIfNull(studentProbabilities);
        ArgumentNullException.ThrowIfNull(teacherProbabilities);
        ArgumentNullException.ThrowIfNull(unlabeled);
        if (studentProbabilities.dim() != 2 || !studentProbabilities.shape.SequenceEqual(teacherProbabilities.shape))
        {
            throw new ArgumentException(
                $"Student and teacher probabilities must both be [nodes, classes]; got {Guard.Shape(studentProbabilities)} and {Guard.Shape(teacherProbabilities)}.",
                nameof(teacherProbabilities));
        }

        GraphLossChecks.NodeMask(unlabeled, studentProbabilities, nameof(unlabeled));
        using var scope = NewDisposeScope();
        var rows = unlabeled.nonzero().squeeze(1);
        var diff = studentProbabilities.index_select(0, rows) - teacherProbabilities.index_select(0, rows);
        return diff.square().sum().clamp_min(1e-20).sqrt().MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Logits(student, teacher).Extra(labeledMask);

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var s = context.Output(student).RequireLogits(student);
        var t = context.Output(teacher).RequireLogits(teacher).detach();
        if (s.dim() != 2 || !s.shape.SequenceEqual(t.shape))
        {
            throw new ArgumentException(
                $"Student '{student}' logits {Guard.Shape(s)} and teacher '{teacher}' logits {Guard.Shape(t)} must both be [nodes, classes].",
                nameof(context));
        }

        var unlabeled = GraphLossChecks.Extra(context, labeledMask).logical_not();
        return new LossResult(Name, Value(nn.functional.softmax(s, 1), nn.functional.softmax(t, 1), unlabeled));
    }
}
