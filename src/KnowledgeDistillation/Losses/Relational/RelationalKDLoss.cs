using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Relational knowledge distillation (Park, Kim, Lu and Cho, CVPR 2019, arXiv 1904.05068; mdistiller
/// <c>distillers/RKD.py</c>, RepDistiller <c>distiller_zoo/RKD.py</c>, identical): the student matches the teacher's
/// pairwise distances and triplet angles between the samples of a batch. Features are flattened per sample (widths may
/// differ). Distance: <c>d_ij = sqrt(max(‖e_i‖² + ‖e_j‖² − 2 e_i·e_j, 1e-12))</c>, <c>d_ii = 0</c>, divided by the mean of the
/// positive distances; angle: <c>⟨normalize(e_j − e_i), normalize(e_k − e_i)⟩</c> for all (i, j, k). Each is compared with
/// the Huber loss (smooth L1, β = 1, mean); <c>RKD = w_d · distance + w_a · angle</c> with w_d = 25, w_a = 50 (RepDistiller's
/// and mdistiller's defaults). Parts "NAME", "NAME.distance", "NAME.angle" (unweighted, summed over stages).
/// </summary>
public sealed class RelationalKDLoss : FeatureDistillationLoss
{
    /// <summary>The clamp of squared distances (the references' 1e-12).</summary>
    public const double DistanceEpsilon = 1e-12;

    /// <summary>Creates the term.</summary>
    /// <param name="features">The compared features, one pair per stage (any rank &gt;= 2, flattened per sample; the references use the pooled features).</param>
    /// <param name="distanceWeight">w_d, a finite number &gt;= 0 (25).</param>
    /// <param name="angleWeight">w_a, a finite number &gt;= 0 (50).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name (default "rkd").</param>
    public RelationalKDLoss(
        IReadOnlyList<FeaturePair> features,
        double distanceWeight = 25.0,
        double angleWeight = 50.0,
        string student = "student",
        string teacher = "teacher",
        bool detachTeacher = true,
        string name = "rkd")
        : base(name, features, student, teacher, detachTeacher)
    {
        DistanceWeight = Guard.NonNegative(distanceWeight, nameof(distanceWeight));
        AngleWeight = Guard.NonNegative(angleWeight, nameof(angleWeight));
    }

    /// <summary>The weight w_d of the distance term.</summary>
    public double DistanceWeight { get; }

    /// <summary>The weight w_a of the angle term.</summary>
    public double AngleWeight { get; }

    /// <summary>The unweighted distance and angle terms of one stage.</summary>
    /// <param name="student">The student's feature [batch, ...], batch &gt;= 2.</param>
    /// <param name="teacher">The teacher's feature [batch, ...] (used as given: detach it yourself if needed).</param>
    /// <exception cref="ArgumentException">The batch sizes, dtypes or devices differ, or the batch has fewer than two samples.</exception>
    public static (Tensor Distance, Tensor Angle) StageTerms(Tensor student, Tensor teacher)
    {
        CheckPair(student, "student features", teacher, "teacher features");
        return Terms(student, teacher, "student features");
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        var stages = Read(context).Select(p => Terms(p.Student, p.Teacher, p.StudentWhat)).ToArray();
        var distance = stages.Skip(1).Aggregate(stages[0].Distance, (sum, s) => sum + s.Distance);
        var angle = stages.Skip(1).Aggregate(stages[0].Angle, (sum, s) => sum + s.Angle);
        var total = (DistanceWeight * distance) + (AngleWeight * angle);
        return new LossResult(total, new Dictionary<string, Tensor> { [Name] = total, [$"{Name}.distance"] = distance.detach(), [$"{Name}.angle"] = angle.detach() });
    }

    /// <inheritdoc />
    protected override Tensor Stage(Tensor student, Tensor teacher, string studentWhat, string teacherWhat)
    {
        var (distance, angle) = Terms(student, teacher, studentWhat);
        return (DistanceWeight * distance) + (AngleWeight * angle);
    }

    private static (Tensor Distance, Tensor Angle) Terms(Tensor student, Tensor teacher, string studentWhat)
    {
        if (student.shape[0] < 2)
        {
            throw new ArgumentException($"RKD compares samples with each other and needs a batch of at least two; got {studentWhat} {Guard.Shape(student)}.", studentWhat);
        }

        var s = Flatten(student);
        var t = Flatten(teacher);
        var distance = nn.functional.smooth_l1_loss(NormalisedDistances(s), NormalisedDistances(t));
        var angle = nn.functional.smooth_l1_loss(Angles(s), Angles(t));
        return (distance, angle);
    }

    private static Tensor NormalisedDistances(Tensor e)
    {
        var squared = e.pow(2).sum(1);
        var gram = e.matmul(e.t());
        var offDiagonal = 1 - eye(e.shape[0], dtype: e.dtype, device: e.device);
        var d = (squared.unsqueeze(1) + squared.unsqueeze(0) - (2 * gram)).clamp_min(DistanceEpsilon).sqrt() * offDiagonal;
        return d / d.masked_select(d.gt(0)).mean();
    }

    private static Tensor Angles(Tensor e)
    {
        var differences = nn.functional.normalize(e.unsqueeze(0) - e.unsqueeze(1), p: 2.0, dim: 2);
        return bmm(differences, differences.transpose(1, 2)).reshape(-1);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Park, Kim, Lu and Cho (2019), "Relational Knowledge Distillation" (CVPR, arXiv 1904.05068): distance- and
    /// angle-wise relations, <c>w_d · distance + w_a · angle</c> (25 and 50), summed over stages. Reports "NAME",
    /// "NAME.distance", "NAME.angle".
    /// </summary>
    /// <param name="features">The compared features, one pair per stage.</param>
    /// <param name="distanceWeight">w_d &gt;= 0.</param>
    /// <param name="angleWeight">w_a &gt;= 0.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name.</param>
    public static RelationalKDLoss RelationalKD(
        IReadOnlyList<FeaturePair> features,
        double distanceWeight = 25.0,
        double angleWeight = 50.0,
        string student = "student",
        string teacher = "teacher",
        bool detachTeacher = true,
        string name = "rkd") =>
        new(features, distanceWeight, angleWeight, student, teacher, detachTeacher, name);
}
