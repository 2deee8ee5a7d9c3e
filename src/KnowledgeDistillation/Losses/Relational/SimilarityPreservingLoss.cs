using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Similarity-preserving KD (Tung and Mori, ICCV 2019, arXiv 1907.09682; mdistiller <c>distillers/SP.py</c>, RepDistiller
/// <c>distiller_zoo/SP.py</c>, identical): samples that the teacher sees as similar should look similar to the student.
/// With <c>f = F.reshape(B, −1)</c> and the row-L2-normalised Gram matrix <c>G = normalize_rows(f fᵀ)</c> [B, B],
/// <c>SP = ‖G_t − G_s‖_F² / B²</c>. Shapes other than the batch size may differ; stages are summed. The references
/// weight it by 3000 on CIFAR-100 with the last stage's map.
/// </summary>
public sealed class SimilarityPreservingLoss : FeatureDistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="features">The compared features, one pair per stage (any rank &gt;= 2).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name (default "sp").</param>
    public SimilarityPreservingLoss(IReadOnlyList<FeaturePair> features, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "sp")
        : base(name, features, student, teacher, detachTeacher)
    {
    }

    /// <summary>One stage: <c>‖normalize_rows(f_t f_tᵀ) − normalize_rows(f_s f_sᵀ)‖_F² / B²</c>.</summary>
    /// <param name="student">The student's feature [batch, ...].</param>
    /// <param name="teacher">The teacher's feature [batch, ...] (used as given: detach it yourself if needed).</param>
    /// <exception cref="ArgumentException">The batch sizes, dtypes or devices differ.</exception>
    public static Tensor StageValue(Tensor student, Tensor teacher)
    {
        CheckPair(student, "student features", teacher, "teacher features");
        return Compare(student, teacher);
    }

    /// <inheritdoc />
    protected override Tensor Stage(Tensor student, Tensor teacher, string studentWhat, string teacherWhat) => Compare(student, teacher);

    private static Tensor Compare(Tensor student, Tensor teacher)
    {
        var batch = student.shape[0];
        var difference = Similarity(teacher) - Similarity(student);
        return difference.pow(2).sum() / (batch * batch);
    }

    private static Tensor Similarity(Tensor feature)
    {
        var f = Flatten(feature);
        return nn.functional.normalize(f.matmul(f.t()), p: 2.0, dim: 1);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Tung and Mori (2019), "Similarity-Preserving Knowledge Distillation" (ICCV, arXiv 1907.09682): the SP term summed over
    /// stages. Reports "NAME" (and "NAME.stageN" with several stages). The reference objective is <c>CE + 3000 · SP</c>.
    /// </summary>
    /// <param name="features">The compared features, one pair per stage.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name.</param>
    public static SimilarityPreservingLoss SimilarityPreserving(
        IReadOnlyList<FeaturePair> features, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "sp") =>
        new(features, student, teacher, detachTeacher, name);
}
