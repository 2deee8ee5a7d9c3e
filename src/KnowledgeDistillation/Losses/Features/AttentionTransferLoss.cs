using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Attention transfer (Zagoruyko and Komodakis, "Paying More Attention to Attention", ICLR 2017, arXiv 1612.03928;
/// mdistiller <c>distillers/AT.py</c>, RepDistiller <c>distiller_zoo/AT.py</c>) over one or more stages: each map's spatial
/// attention <c>a(F) = normalize_L2(mean_c |F|^p, flattened per sample)</c> is compared as <c>mean((a(F_s) − a(F_t))²)</c> over
/// batch and positions, after adaptively average-pooling the larger map to the smaller's H × W; the stages are summed.
/// Channel counts may differ. Both reference implementations use p = 2 and weight the term by 1000 on CIFAR-100
/// (<c>1000 * Loss.AttentionTransfer(...)</c>, stages layer1..layer3 of the CIFAR ResNets).
/// </summary>
/// <remarks>
/// The paper's <c>|F|^p</c> is used; the reference code raises <c>F</c> itself to p, the same for even p and for non-negative
/// (post-ReLU) maps. The reference code pools both maps to the smaller map's height on both axes (square maps); here each
/// axis is pooled to the smaller size of that axis, the same for square maps.
/// </remarks>
public sealed class AttentionTransferLoss : FeatureDistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="features">The compared feature maps, one pair per stage.</param>
    /// <param name="p">The exponent p &gt; 0 of the attention map (the paper: 2).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name (default "at").</param>
    public AttentionTransferLoss(IReadOnlyList<FeaturePair> features, double p = 2.0, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "at")
        : base(name, features, student, teacher, detachTeacher)
    {
        P = Guard.Positive(p, nameof(p));
    }

    /// <summary>The exponent of the attention map.</summary>
    public double P { get; }

    /// <summary>The attention map <c>normalize_L2(mean_c |F|^p)</c>, [batch, H·W].</summary>
    /// <param name="features">A map [batch, channels, H, W].</param>
    /// <param name="p">p &gt; 0.</param>
    /// <param name="what">The map's description for errors.</param>
    public static Tensor Map(Tensor features, double p, string what = "features")
    {
        RequireMap(features, what);
        Guard.Positive(p, nameof(p));
        var energy = features.abs().pow(p).mean(new long[] { 1 }).flatten(1);
        return nn.functional.normalize(energy, p: 2.0, dim: 1);
    }

    /// <summary>One stage: <c>mean((a(F_s) − a(F_t))²)</c> after pooling the larger map to the smaller's size.</summary>
    /// <param name="student">The student's map [batch, c1, H1, W1].</param>
    /// <param name="teacher">The teacher's map [batch, c2, H2, W2] (used as given: detach it yourself if needed).</param>
    /// <param name="p">p &gt; 0.</param>
    /// <exception cref="ArgumentException">A map is not rank 4, or the batch sizes, dtypes or devices differ.</exception>
    public static Tensor StageValue(Tensor student, Tensor teacher, double p = 2.0)
    {
        CheckPair(student, "student features", teacher, "teacher features");
        return Compare(student, teacher, p, "student features", "teacher features");
    }

    /// <inheritdoc />
    protected override Tensor Stage(Tensor student, Tensor teacher, string studentWhat, string teacherWhat) =>
        Compare(student, teacher, P, studentWhat, teacherWhat);

    private static Tensor Compare(Tensor student, Tensor teacher, double p, string studentWhat, string teacherWhat)
    {
        RequireMap(student, studentWhat);
        RequireMap(teacher, teacherWhat);
        var (s, t) = MatchSpatialSize(student, teacher);
        return (Map(s, p, studentWhat) - Map(t, p, teacherWhat)).pow(2).mean();
    }
}

public static partial class Loss
{
    /// <summary>
    /// Zagoruyko and Komodakis (2017), "Paying More Attention to Attention: Improving the Performance of Convolutional Neural
    /// Networks via Attention Transfer" (ICLR, arXiv 1612.03928): the AT term summed over stages. Reports "NAME" (and
    /// "NAME.stageN" with several stages). The reference objective is <c>CE + 1000 · AT</c>.
    /// </summary>
    /// <param name="features">The compared feature maps, one pair per stage (a string names one feature on both sides).</param>
    /// <param name="p">The exponent p &gt; 0 (2).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name.</param>
    public static AttentionTransferLoss AttentionTransfer(
        IReadOnlyList<FeaturePair> features, double p = 2.0, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "at") =>
        new(features, p, student, teacher, detachTeacher, name);
}
