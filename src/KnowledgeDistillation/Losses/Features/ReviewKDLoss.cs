using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// ReviewKD (Chen, Liu, Zhao and Jia, "Distilling Knowledge via Knowledge Review", CVPR 2021, arXiv 2104.09044; mdistiller
/// <c>distillers/ReviewKD.py</c>): the student's features, deepest first, pass through a chain of
/// <see cref="ReviewFusion"/> (ABF) modules, each fusing its level with the deeper levels' residual, and each output is
/// compared with the teacher's feature of its level by the hierarchical context loss HCL:
/// <c>(mse(F_s, F_t) + Σ_l ½^k mse(pool_l(F_s), pool_l(F_t))) / (1 + Σ_l ½^k)</c> over the pooled sizes l ∈ {4, 2, 1} below
/// the map's height (k counting the used sizes from 1), summed over levels and scaled by mdistiller's warm-up
/// <c>min((e + 1) / warmup, 1)</c> on the stage epoch e. A rank-2 feature [B, C] (the pooled penultimate vector, the
/// references' deepest level) is read as [B, C, 1, 1]. The fusion modules are this term's trainable modules.
/// </summary>
public sealed class ReviewKDLoss : DistillationLoss
{
    private static readonly long[] PoolSizes = { 4, 2, 1 };
    private readonly ReviewFusion[] _fusions;

    /// <summary>Creates the term.</summary>
    /// <param name="features">The student and teacher feature of every level, shallow to deep.</param>
    /// <param name="fusions">One fusion module per level, shallow to deep (e.g. <see cref="ReviewFusion.Chain"/>): all but the deepest fuse.</param>
    /// <param name="warmupEpochs">Linear warm-up length in epochs (mdistiller: 20); 0 for none.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name (default "reviewkd").</param>
    /// <exception cref="ArgumentException">The counts differ, or the modules' fusing flags or widths do not chain.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="warmupEpochs"/> is negative.</exception>
    public ReviewKDLoss(IReadOnlyList<FeaturePair> features, IReadOnlyList<ReviewFusion> fusions, int warmupEpochs = 20, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "reviewkd")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(fusions);
        if (features.Count == 0 || features.Any(f => f is null))
        {
            throw new ArgumentException("ReviewKD needs at least one (non-null) student/teacher feature pair.", nameof(features));
        }

        Features = features.ToArray();
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        DetachTeacher = detachTeacher;
        if (fusions.Count != features.Count || fusions.Any(f => f is null))
        {
            throw new ArgumentException($"ReviewKD needs one fusion module per feature pair: {features.Count} pairs, {fusions.Count} modules.", nameof(fusions));
        }

        for (var i = 0; i < fusions.Count; i++)
        {
            var deepest = i == fusions.Count - 1;
            if (fusions[i].Fuses == deepest || fusions[i].MidChannels != fusions[^1].MidChannels)
            {
                throw new ArgumentException(
                    "ReviewKD's fusion modules must all share C_mid, and all but the deepest (the last) must fuse (use ReviewFusion.Chain).", nameof(fusions));
            }
        }

        _fusions = fusions.ToArray();
        WarmupEpochs = warmupEpochs >= 0 ? warmupEpochs : throw new ArgumentOutOfRangeException(nameof(warmupEpochs), warmupEpochs, "warmupEpochs must be >= 0 (0: no warm-up).");
    }

    /// <summary>The student and teacher feature of every level, shallow to deep.</summary>
    public IReadOnlyList<FeaturePair> Features { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>Whether the teacher's features are detached (true for a frozen teacher).</summary>
    public bool DetachTeacher { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements =>
        Features.Aggregate(LossRequirements.None, (r, f) => r.Feature(Student, f.Student).Feature(Teacher, f.Teacher));

    /// <summary>The fusion modules, shallow to deep.</summary>
    public IReadOnlyList<ReviewFusion> Fusions => _fusions;

    /// <summary>Linear warm-up length in epochs (0: none).</summary>
    public int WarmupEpochs { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _fusions;

    /// <summary>The warm-up factor at a stage epoch: <c>min((epoch + 1) / WarmupEpochs, 1)</c>, or 1 without warm-up.</summary>
    /// <param name="epoch">The stage epoch, from 0.</param>
    public double WarmupFactor(int epoch) => WarmupEpochs == 0 ? 1.0 : Math.Min((epoch + 1.0) / WarmupEpochs, 1.0);

    /// <summary>The hierarchical context loss of one level (maps of one shape).</summary>
    /// <param name="student">The fused student map [B, C, H, W].</param>
    /// <param name="teacher">The teacher map, same shape.</param>
    public static Tensor HierarchicalContextLoss(Tensor student, Tensor teacher)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(teacher);
        var loss = nn.functional.mse_loss(student, teacher);
        double weight = 1, total = 1;
        foreach (var size in PoolSizes.Where(l => l < student.shape[2]))
        {
            weight /= 2;
            var pooled = new[] { size, size };
            loss = loss + (nn.functional.mse_loss(nn.functional.adaptive_avg_pool2d(student, pooled), nn.functional.adaptive_avg_pool2d(teacher, pooled)) * weight);
            total += weight;
        }

        return loss / total;
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentOutput = context.Output(Student);
        var teacherOutput = context.Output(Teacher);
        var pairs = Features.Select((f, i) =>
        {
            var p = (StudentWhat: $"feature '{f.Student}' of '{Student}'", TeacherWhat: $"feature '{f.Teacher}' of '{Teacher}'",
                Student: studentOutput.Feature(f.Student, Student), Teacher: teacherOutput.Feature(f.Teacher, Teacher));
            FeatureDistillationLoss.CheckPair(p.Student, p.StudentWhat, p.Teacher, p.TeacherWhat);
            var s = AsMap(p.Student, p.StudentWhat);
            var t = AsMap(DetachTeacher ? p.Teacher.detach() : p.Teacher, p.TeacherWhat);
            if (s.shape[1] != _fusions[i].InChannels || t.shape[1] != _fusions[i].OutChannels)
            {
                throw new ArgumentException(
                    $"Level {i + 1}: the {p.StudentWhat} {Guard.Shape(p.Student)} and the {p.TeacherWhat} {Guard.Shape(p.Teacher)} do not fit its fusion module ({_fusions[i].InChannels} -> {_fusions[i].OutChannels} channels).",
                    p.StudentWhat);
            }

            return (Student: s, Teacher: t);
        }).ToArray();

        var last = pairs.Length - 1;
        var outputs = new Tensor[pairs.Length];
        Tensor? residual = null;
        for (var i = last; i >= 0; i--)
        {
            (outputs[i], residual) = _fusions[i].Forward(pairs[i].Student, residual, (pairs[i].Teacher.shape[2], pairs[i].Teacher.shape[3]));
        }

        var levels = outputs.Select((o, i) => HierarchicalContextLoss(o, pairs[i].Teacher)).ToArray();
        var hcl = levels.Skip(1).Aggregate(levels[0], (sum, l) => sum + l);
        var total = hcl * WarmupFactor(context.Epoch);
        return new LossResult(total, new Dictionary<string, Tensor> { [Name] = total });
    }

    private static Tensor AsMap(Tensor feature, string what) => feature.dim() switch
    {
        2 => feature.reshape(feature.shape[0], feature.shape[1], 1, 1),
        4 => feature,
        _ => throw new ArgumentException($"A ReviewKD feature must be a map [batch, channels, H, W] or a vector [batch, channels]; the {what} is {Guard.Shape(feature)}.", what),
    };
}

public static partial class Loss
{
    /// <summary>
    /// Chen et al. (2021), "Distilling Knowledge via Knowledge Review" (CVPR, arXiv 2104.09044): attention-based fusion of the
    /// student's levels and the hierarchical context loss against the teacher's (see <see cref="ReviewKDLoss"/>). Reports
    /// "NAME". mdistiller's CIFAR-100 objective for resnet32x4 → resnet8x4 is <c>CE + 5 · reviewkd</c> (<see cref="Recipes.ReviewKD"/>).
    /// </summary>
    /// <param name="features">The student and teacher feature of every level, shallow to deep.</param>
    /// <param name="fusions">One fusion module per level, shallow to deep.</param>
    /// <param name="warmupEpochs">Linear warm-up length in epochs; 0 for none.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static ReviewKDLoss ReviewKD(IReadOnlyList<FeaturePair> features, IReadOnlyList<ReviewFusion> fusions, int warmupEpochs = 20, string student = "student", string teacher = "teacher", string name = "reviewkd") =>
        new(features, fusions, warmupEpochs, student, teacher, true, name);
}

public static partial class Recipes
{
    /// <summary>
    /// Chen et al. (2021), "Distilling Knowledge via Knowledge Review" (CVPR, arXiv 2104.09044), mdistiller's CIFAR-100
    /// objective in one stage: <c>CE + weight · ReviewKD</c> with a 20-epoch warm-up (weight 5 for resnet32x4 → resnet8x4,
    /// mdistiller's default 1 otherwise).
    /// </summary>
    /// <param name="features">The student and teacher feature of every level, shallow to deep.</param>
    /// <param name="fusions">One fusion module per level, shallow to deep.</param>
    /// <param name="weight">The ReviewKD weight (&gt;= 0).</param>
    /// <param name="warmupEpochs">Linear warm-up length in epochs; 0 for none.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    public static Engine.DistillationRecipe ReviewKD(IReadOnlyList<FeaturePair> features, IReadOnlyList<ReviewFusion> fusions, double weight = 5.0, int warmupEpochs = 20, string student = "student", string teacher = "teacher") =>
        Of("reviewkd", new CrossEntropyLoss(student) + (Guard.NonNegative(weight, nameof(weight)) * Loss.ReviewKD(features, fusions, warmupEpochs, student, teacher)));
}
