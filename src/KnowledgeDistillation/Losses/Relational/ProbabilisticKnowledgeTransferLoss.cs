using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Probabilistic knowledge transfer (Passalis and Tefas, "Learning Deep Representations with Probabilistic Knowledge
/// Transfer", ECCV 2018; mdistiller <c>distillers/PKT.py</c>, RepDistiller <c>distiller_zoo/PKT.py</c>, identical): the
/// student's embedding should induce the teacher's conditional distribution over neighbours. With the cosine kernel
/// <c>K = (f̂ f̂ᵀ + 1) / 2</c> on <c>f̂ = f / (‖f‖ + ε)</c>, each row normalised to sum 1,
/// <c>PKT = mean_ij K_t[i,j] · log((K_t[i,j] + ε) / (K_s[i,j] + ε))</c> over all B² entries, ε = 1e-7. Features are flattened
/// per sample (the references use the pooled penultimate features); the widths may differ; stages are summed.
/// The references weight it by 30000 on CIFAR-100.
/// </summary>
/// <remarks>
/// The reference code replaces NaN entries of the normalised features by 0; here non-finite features give a non-finite loss,
/// so the engine's non-finite-loss policy sees them (with finite features both are the same).
/// </remarks>
public sealed class ProbabilisticKnowledgeTransferLoss : FeatureDistillationLoss
{
    /// <summary>The reference ε (1e-7) of the normalisation and the logarithm.</summary>
    public const double Epsilon = 1e-7;

    /// <summary>Creates the term.</summary>
    /// <param name="features">The compared features, one pair per stage (any rank &gt;= 2, flattened per sample).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name (default "pkt").</param>
    public ProbabilisticKnowledgeTransferLoss(IReadOnlyList<FeaturePair> features, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "pkt")
        : base(name, features, student, teacher, detachTeacher)
    {
    }

    /// <summary>One stage: the KL-like divergence between the teacher's and the student's cosine-kernel neighbour distributions.</summary>
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
        var s = Neighbours(student);
        var t = Neighbours(teacher);
        return (t * ((t + Epsilon) / (s + Epsilon)).log()).mean();
    }

    private static Tensor Neighbours(Tensor feature)
    {
        var f = Flatten(feature);
        var unit = f / (f.pow(2).sum(1, keepdim: true).sqrt() + Epsilon);
        var kernel = (unit.matmul(unit.t()) + 1.0) / 2.0;
        return kernel / kernel.sum(1, keepdim: true);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Passalis and Tefas (2018), "Learning Deep Representations with Probabilistic Knowledge Transfer" (ECCV,
    /// arXiv 1803.10837): the PKT term summed over stages. Reports "NAME" (and "NAME.stageN" with several stages). The
    /// reference objective is <c>CE + 30000 · PKT</c> on the pooled features.
    /// </summary>
    /// <param name="features">The compared features, one pair per stage.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name.</param>
    public static ProbabilisticKnowledgeTransferLoss ProbabilisticKnowledgeTransfer(
        IReadOnlyList<FeaturePair> features, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "pkt") =>
        new(features, student, teacher, detachTeacher, name);
}
