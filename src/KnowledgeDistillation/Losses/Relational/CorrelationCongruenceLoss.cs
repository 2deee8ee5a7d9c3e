using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Correlation congruence (Peng, Jin, Liu, Li, Wu, Liu, Zhou and Zhang, "Correlation Congruence for Knowledge
/// Distillation", ICCV 2019, arXiv 1904.01802): the student's embeddings should induce the teacher's correlation between
/// the samples of a batch. Each network's feature (flattened per sample; the references use the pooled penultimate
/// feature) passes through an optional <see cref="CorrelationEmbedding"/> head (both heads are this term's trainable
/// modules, as in RepDistiller; the teacher's feature itself is detached), then <see cref="Form"/> compares them:
/// the paper's Gaussian-RBF kernel by Taylor expansion (default, γ = 0.4 and P = 2 as torchdistill's CCKD configuration),
/// the paper's bilinear kernel, or RepDistiller's <c>Correlation</c> (see <see cref="CorrelationCongruenceForm"/>).
/// </summary>
/// <remarks>
/// torchdistill's CCKD divides <c>torch.dist</c> (the Frobenius norm, not its square) by B²; the paper and this term use
/// the squared norm. RepDistiller's table number (72.97) comes from <see cref="CorrelationCongruenceForm.RepDistiller"/>
/// with unnormalised 128-wide heads and weight 0.02 next to CE.
/// </remarks>
public sealed class CorrelationCongruenceLoss : FeatureDistillationLoss
{
    private readonly nn.Module[] _modules;

    /// <summary>Creates the term.</summary>
    /// <param name="feature">The compared features (any rank &gt;= 2, flattened per sample).</param>
    /// <param name="studentEmbedding">The student's head, or <c>null</c> to use the flattened feature as the embedding.</param>
    /// <param name="teacherEmbedding">The teacher's head, or <c>null</c> to use the flattened feature as the embedding.</param>
    /// <param name="form">The formula.</param>
    /// <param name="gamma">γ &gt; 0 of the Gaussian kernel (paper/torchdistill: 0.4); ignored by the other forms.</param>
    /// <param name="order">P &gt;= 0, the Taylor order of the Gaussian kernel (torchdistill: 2); ignored by the other forms.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "cc").</param>
    /// <exception cref="ArgumentOutOfRangeException">γ is not positive and finite, P is negative, or the form is unknown.</exception>
    /// <exception cref="ArgumentException">Both heads are given with different output widths for <see cref="CorrelationCongruenceForm.RepDistiller"/>.</exception>
    public CorrelationCongruenceLoss(
        FeaturePair feature,
        CorrelationEmbedding? studentEmbedding = null,
        CorrelationEmbedding? teacherEmbedding = null,
        CorrelationCongruenceForm form = CorrelationCongruenceForm.GaussianKernel,
        double gamma = 0.4,
        int order = 2,
        string student = "student",
        string teacher = "teacher",
        string name = "cc")
        : base(name, new[] { feature ?? throw new ArgumentNullException(nameof(feature)) }, student, teacher, detachTeacher: true)
    {
        Form = Enum.IsDefined(form) ? form : throw new ArgumentOutOfRangeException(nameof(form), form, "Unknown correlation congruence form.");
        Gamma = Guard.Finite(Guard.Positive(gamma, nameof(gamma)), nameof(gamma));
        Order = order >= 0 ? order : throw new ArgumentOutOfRangeException(nameof(order), order, "The Taylor order P must be >= 0.");
        if (form == CorrelationCongruenceForm.RepDistiller && studentEmbedding is not null && teacherEmbedding is not null &&
            studentEmbedding.OutputDimension != teacherEmbedding.OutputDimension)
        {
            throw new ArgumentException(
                $"RepDistiller's form compares embeddings elementwise: the heads' widths must match; got {studentEmbedding.OutputDimension} and {teacherEmbedding.OutputDimension}.",
                nameof(teacherEmbedding));
        }

        StudentEmbedding = studentEmbedding;
        TeacherEmbedding = teacherEmbedding;
        _modules = new[] { studentEmbedding, teacherEmbedding }.OfType<nn.Module>().ToArray();
    }

    /// <summary>The student's head, or <c>null</c>.</summary>
    public CorrelationEmbedding? StudentEmbedding { get; }

    /// <summary>The teacher's head, or <c>null</c>.</summary>
    public CorrelationEmbedding? TeacherEmbedding { get; }

    /// <summary>The formula.</summary>
    public CorrelationCongruenceForm Form { get; }

    /// <summary>γ of the Gaussian kernel.</summary>
    public double Gamma { get; }

    /// <summary>P, the Taylor order of the Gaussian kernel.</summary>
    public int Order { get; }

    /// <summary>The compared features.</summary>
    public FeaturePair Feature => Features[0];

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <summary>
    /// The correlation matrix ψ(E) [B, B] of embeddings [B, D]: the Taylor-expanded Gaussian kernel
    /// <c>e^(−2γ) Σ_{p=0..P} (2γ)^p / p! · (E Eᵀ)^p</c> (elementwise powers).
    /// </summary>
    /// <param name="embeddings">Embeddings [B, D] (unit rows for the expansion to approximate the Gaussian kernel).</param>
    /// <param name="gamma">γ &gt; 0.</param>
    /// <param name="order">P &gt;= 0.</param>
    /// <exception cref="ArgumentException">The embeddings are not a floating-point [B, D] matrix.</exception>
    public static Tensor GaussianCorrelation(Tensor embeddings, double gamma = 0.4, int order = 2)
    {
        Guard.Rank(embeddings, 2, nameof(embeddings), "[batch, dimension]");
        Guard.FloatingPoint(embeddings, nameof(embeddings));
        Guard.Positive(gamma, nameof(gamma));
        if (order < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "The Taylor order P must be >= 0.");
        }

        var gram = embeddings.matmul(embeddings.t());
        var sum = ones_like(gram);
        var power = ones_like(gram);
        var coefficient = 1.0;
        for (var p = 1; p <= order; p++)
        {
            power = power * gram;
            coefficient *= 2.0 * gamma / p;
            sum = sum + coefficient * power;
        }

        return Math.Exp(-2.0 * gamma) * sum;
    }

    /// <summary>The term's value for a student and a teacher embedding batch (after the heads).</summary>
    /// <param name="student">Student embeddings [B, D_s].</param>
    /// <param name="teacher">Teacher embeddings [B, D_t] (used as given: detach them yourself if needed).</param>
    /// <param name="form">The formula.</param>
    /// <param name="gamma">γ &gt; 0 of the Gaussian kernel.</param>
    /// <param name="order">P &gt;= 0 of the Gaussian kernel.</param>
    /// <exception cref="ArgumentException">Batch sizes, dtypes or devices differ, a rank is not 2, or (RepDistiller) the widths differ or B &lt; 2.</exception>
    public static Tensor Value(Tensor student, Tensor teacher, CorrelationCongruenceForm form = CorrelationCongruenceForm.GaussianKernel, double gamma = 0.4, int order = 2)
    {
        CheckPair(student, nameof(student), teacher, nameof(teacher));
        Guard.Rank(student, 2, nameof(student), "[batch, dimension]");
        Guard.Rank(teacher, 2, nameof(teacher), "[batch, dimension]");
        return Compare(student, teacher, form, gamma, order, nameof(student), nameof(teacher));
    }

    /// <inheritdoc />
    protected override Tensor Stage(Tensor student, Tensor teacher, string studentWhat, string teacherWhat)
    {
        StudentEmbedding?.CheckInput(student, studentWhat);
        TeacherEmbedding?.CheckInput(teacher, teacherWhat);
        var s = StudentEmbedding is null ? Flatten(student) : StudentEmbedding.call(student);
        var t = TeacherEmbedding is null ? Flatten(teacher) : TeacherEmbedding.call(teacher);
        return Compare(s, t, Form, Gamma, Order, studentWhat, teacherWhat);
    }

    private static Tensor Compare(Tensor s, Tensor t, CorrelationCongruenceForm form, double gamma, int order, string studentWhat, string teacherWhat)
    {
        var batch = s.shape[0];
        switch (form)
        {
            case CorrelationCongruenceForm.RepDistiller:
                if (s.shape[1] != t.shape[1] || batch < 2)
                {
                    throw new ArgumentException(
                        $"RepDistiller's CC needs embeddings of one width and a batch of at least 2; got {studentWhat} {Guard.Shape(s)} and {teacherWhat} {Guard.Shape(t)} " +
                        "(pass CorrelationEmbedding heads of one output width to connect different widths).",
                        studentWhat);
                }

                var delta = (s - t).abs();
                return (delta[..^1] * delta[1..]).sum(1).mean();
            case CorrelationCongruenceForm.Bilinear:
                return (s.matmul(s.t()) - t.matmul(t.t())).pow(2).sum() / (batch * batch);
            default:
                return (GaussianCorrelation(s, gamma, order) - GaussianCorrelation(t, gamma, order)).pow(2).sum() / (batch * batch);
        }
    }
}

public static partial class Loss
{
    /// <summary>
    /// Peng et al. (2019), "Correlation Congruence for Knowledge Distillation" (ICCV, arXiv 1904.01802): the CC term on one
    /// feature pair, with optional trainable embedding heads. Reports "NAME". RepDistiller's objective is
    /// <c>CE + 0.02 · CC</c> (its <see cref="CorrelationCongruenceForm.RepDistiller"/> form, heads of width 128 without
    /// normalisation, on the pooled penultimate features).
    /// </summary>
    /// <param name="feature">The compared features.</param>
    /// <param name="studentEmbedding">The student's head, or <c>null</c>.</param>
    /// <param name="teacherEmbedding">The teacher's head, or <c>null</c>.</param>
    /// <param name="form">The formula (default: the paper's Gaussian kernel).</param>
    /// <param name="gamma">γ &gt; 0 of the Gaussian kernel.</param>
    /// <param name="order">P &gt;= 0, its Taylor order.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static CorrelationCongruenceLoss CorrelationCongruence(
        FeaturePair feature,
        CorrelationEmbedding? studentEmbedding = null,
        CorrelationEmbedding? teacherEmbedding = null,
        CorrelationCongruenceForm form = CorrelationCongruenceForm.GaussianKernel,
        double gamma = 0.4,
        int order = 2,
        string student = "student",
        string teacher = "teacher",
        string name = "cc") =>
        new(feature, studentEmbedding, teacherEmbedding, form, gamma, order, student, teacher, name);
}
