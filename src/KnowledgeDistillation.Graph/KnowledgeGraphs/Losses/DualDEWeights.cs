using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// The learnable soft-label evaluation of DualDE: four <see cref="SoftLabelSigmoid"/>s. The student's soft-label weights come
/// from the teacher's scores, <c>p(x) = σ(a(f_T(x) + b))</c> for positives and <c>p(x') = 1 − σ(a'(f_T(x') + b'))</c> for negatives
/// (eq. 8/9); in stage 2 the teacher's weights come from the student's scores with (c, e) and (c', e') (eq. 14/15). One instance is
/// shared by both stages so stage 2 starts from the parameters stage 1 learned.
/// </summary>
public sealed class DualDEWeights : nn.Module
{
    private readonly SoftLabelSigmoid student_positive;
    private readonly SoftLabelSigmoid student_negative;
    private readonly SoftLabelSigmoid teacher_positive;
    private readonly SoftLabelSigmoid teacher_negative;

    /// <summary>Creates the four sigmoids at a = 1, b = 0.</summary>
    /// <param name="shareStudentSigmoid">True reproduces the released code, where the student's negatives reuse the positive (a, b).</param>
    public DualDEWeights(bool shareStudentSigmoid = false)
        : base(nameof(DualDEWeights))
    {
        student_positive = new SoftLabelSigmoid("student_positive");
        student_negative = new SoftLabelSigmoid("student_negative");
        teacher_positive = new SoftLabelSigmoid("teacher_positive");
        teacher_negative = new SoftLabelSigmoid("teacher_negative");
        ShareStudentSigmoid = shareStudentSigmoid;
        RegisterComponents();
    }

    /// <summary>Whether the student's negatives reuse the positive sigmoid (the released code's behaviour).</summary>
    public bool ShareStudentSigmoid { get; }

    /// <summary>(a, b): the student's positive weights from teacher scores.</summary>
    public SoftLabelSigmoid StudentPositive => student_positive;

    /// <summary>(a', b'): the student's negative weights from teacher scores.</summary>
    public SoftLabelSigmoid StudentNegative => ShareStudentSigmoid ? student_positive : student_negative;

    /// <summary>(c, e): the teacher's positive weights from student scores (stage 2).</summary>
    public SoftLabelSigmoid TeacherPositive => teacher_positive;

    /// <summary>(c', e'): the teacher's negative weights from student scores (stage 2).</summary>
    public SoftLabelSigmoid TeacherNegative => teacher_negative;

    /// <summary>Soft weights of positives: <c>σ(a(scores + b))</c>.</summary>
    /// <param name="sigmoid">The sigmoid.</param>
    /// <param name="scores">The other model's scores of the positives.</param>
    public static Tensor Positive(SoftLabelSigmoid sigmoid, Tensor scores)
    {
        ArgumentNullException.ThrowIfNull(sigmoid);
        return sigmoid.call(scores);
    }

    /// <summary>Soft weights of negatives: <c>1 − σ(a'(scores + b'))</c>.</summary>
    /// <param name="sigmoid">The sigmoid.</param>
    /// <param name="scores">The other model's scores of the negatives.</param>
    public static Tensor Negative(SoftLabelSigmoid sigmoid, Tensor scores)
    {
        ArgumentNullException.ThrowIfNull(sigmoid);
        return 1 - sigmoid.call(scores);
    }
}
