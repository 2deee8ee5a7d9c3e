using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Neuron selectivity transfer (Huang and Wang, "Like What You Like: Knowledge Distill via Neuron Selectivity Transfer",
/// arXiv 1707.01219; mdistiller <c>distillers/NST.py</c>, RepDistiller <c>distiller_zoo/NST.py</c>) over one or more stages:
/// each channel's activation pattern over the H·W positions, L2-normalised, is a sample of the "neuron selectivity"
/// distribution, and the term is the squared MMD between the student's and the teacher's with the polynomial kernel
/// <c>k(a, b) = (a · b)²</c>: <c>mean k(t, t) + mean k(s, s) − 2 mean k(s, t)</c> over all (sample, channel, channel) entries,
/// after adaptively pooling the larger map to the smaller's H × W. Channel counts may differ; stages are summed.
/// mdistiller weights it by 50 on CIFAR-100 (stages layer1..layer3).
/// </summary>
public sealed class NeuronSelectivityTransferLoss : FeatureDistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="features">The compared feature maps, one pair per stage.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name (default "nst").</param>
    public NeuronSelectivityTransferLoss(IReadOnlyList<FeaturePair> features, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "nst")
        : base(name, features, student, teacher, detachTeacher)
    {
    }

    /// <summary>One stage: the squared polynomial-kernel MMD between the two maps' normalised channel patterns.</summary>
    /// <param name="student">The student's map [batch, c1, H1, W1].</param>
    /// <param name="teacher">The teacher's map [batch, c2, H2, W2] (used as given; its self-kernel carries no gradient).</param>
    /// <exception cref="ArgumentException">A map is not rank 4, or the batch sizes, dtypes or devices differ.</exception>
    public static Tensor StageValue(Tensor student, Tensor teacher)
    {
        CheckPair(student, "student features", teacher, "teacher features");
        return Compare(student, teacher, "student features", "teacher features");
    }

    /// <inheritdoc />
    protected override Tensor Stage(Tensor student, Tensor teacher, string studentWhat, string teacherWhat) =>
        Compare(student, teacher, studentWhat, teacherWhat);

    private static Tensor Compare(Tensor student, Tensor teacher, string studentWhat, string teacherWhat)
    {
        RequireMap(student, studentWhat);
        RequireMap(teacher, teacherWhat);
        var (s, t) = MatchSpatialSize(student, teacher);
        var sn = nn.functional.normalize(s.reshape(s.shape[0], s.shape[1], -1), p: 2.0, dim: 2);
        var tn = nn.functional.normalize(t.reshape(t.shape[0], t.shape[1], -1), p: 2.0, dim: 2);
        return Kernel(tn, tn).mean().detach() + Kernel(sn, sn).mean() - (2 * Kernel(sn, tn).mean());
    }

    /// <summary><c>(a_i · b_j)²</c> for every sample and channel pair: [batch, ca, cb].</summary>
    private static Tensor Kernel(Tensor a, Tensor b) => bmm(a, b.transpose(1, 2)).pow(2);
}

public static partial class Loss
{
    /// <summary>
    /// Huang and Wang (2017), "Like What You Like: Knowledge Distill via Neuron Selectivity Transfer" (arXiv 1707.01219):
    /// the NST term (polynomial-kernel MMD) summed over stages. Reports "NAME" (and "NAME.stageN" with several stages).
    /// </summary>
    /// <param name="features">The compared feature maps, one pair per stage.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name.</param>
    public static NeuronSelectivityTransferLoss NeuronSelectivityTransfer(
        IReadOnlyList<FeaturePair> features, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "nst") =>
        new(features, student, teacher, detachTeacher, name);
}
