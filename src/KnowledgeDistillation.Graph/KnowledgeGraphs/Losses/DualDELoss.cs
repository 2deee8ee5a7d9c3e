using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Zhu et al. (WSDM 2022), DualDE: a low-dimensional KGE student learns from a high-dimensional teacher's scores, each triple's
/// soft/hard split set by a learned sigmoid of the other model's score. Student objective (eq. 10):
/// <c>L_S = mean[p·d_soft + (1−p)(−log σ f_S(x))] + mean[p'·d'_soft + (1−p')·hard'_S]</c>, where negatives are pooled per triple with
/// the student's self-adversarial weights w: <c>d'_soft = Σ_j w_j d_score(x'_j)</c>, <c>p' = Σ_j w_j p(x'_j)</c>,
/// <c>hard'_S = −Σ_j w_j log σ(−f_S(x'_j))</c>. With <see cref="AdjustTeacher"/> (stage 2) the teacher's objective L_T of the same form
/// (weights q from student scores, the teacher's own hard loss and adversarial weights, negatives' q pooled with the student's w)
/// is added, and no term is detached, so both models learn. d_soft = d_score (+ the structure distance when <see cref="UseStructure"/>).
/// </summary>
public sealed class DualDELoss : Losses.DistillationLoss
{
    private readonly nn.Module[] _modules;

    /// <summary>Creates the loss.</summary>
    /// <param name="weights">The soft-label sigmoids (share one instance between the two stages).</param>
    /// <param name="adjustTeacher">False for stage 1 (L_S only); true for stage 2 (L_S + L_T).</param>
    /// <param name="useStructure">Add the embedding-structure distance to the positives' d_soft (the paper's eq. 7; off in the released code).</param>
    /// <param name="adversarialTemperature">α &gt; 0 of the self-adversarial weights, or <c>null</c> for plain means (default 1).</param>
    /// <param name="trainWeights">Whether the engine trains the sigmoids (default true, as in the paper; false freezes them).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "dualde"); parts "NAME.soft-student", "NAME.hard-student", "NAME.p-pos", "NAME.p-neg"
    /// (+ "NAME.soft-teacher", "NAME.hard-teacher", "NAME.q-pos", "NAME.q-neg" in stage 2).</param>
    public DualDELoss(
        DualDEWeights weights,
        bool adjustTeacher = false,
        bool useStructure = false,
        double? adversarialTemperature = 1.0,
        bool trainWeights = true,
        string student = "student",
        string teacher = "teacher",
        string name = "dualde")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentException.ThrowIfNullOrWhiteSpace(student);
        ArgumentException.ThrowIfNullOrWhiteSpace(teacher);
        if (adversarialTemperature is { } a && (!(a > 0) || double.IsInfinity(a)))
        {
            throw new ArgumentOutOfRangeException(nameof(adversarialTemperature), a, "'adversarialTemperature' must be a finite number > 0, or null.");
        }
        Weights = weights;
        AdjustTeacher = adjustTeacher;
        UseStructure = useStructure;
        AdversarialTemperature = adversarialTemperature;
        Student = student;
        Teacher = teacher;
        _modules = trainWeights ? new nn.Module[] { weights } : Array.Empty<nn.Module>();
    }

    /// <summary>The soft-label sigmoids.</summary>
    public DualDEWeights Weights { get; }

    /// <summary>Whether the teacher's objective is added (stage 2).</summary>
    public bool AdjustTeacher { get; }

    /// <summary>Whether the structure distance is part of d_soft.</summary>
    public bool UseStructure { get; }

    /// <summary>α, or <c>null</c>.</summary>
    public double? AdversarialTemperature { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <summary>
    /// One side's objective from per-triple terms [B]: <c>soft = mean(pPos·dPos) + mean(pNeg·dNeg)</c>,
    /// <c>hard = mean((1−pPos)·hardPos) + mean((1−pNeg)·hardNeg)</c>.
    /// </summary>
    /// <param name="dPos">Soft distance of positives.</param>
    /// <param name="dNeg">Pooled soft distance of negatives.</param>
    /// <param name="pPos">Soft weights of positives.</param>
    /// <param name="pNeg">Pooled soft weights of negatives.</param>
    /// <param name="hardPos">Hard loss of positives.</param>
    /// <param name="hardNeg">Pooled hard loss of negatives.</param>
    /// <param name="subsamplingWeights">Per-triple weights [B] for weighted batch means (the code's <c>--use_weight</c>), or <c>null</c>.</param>
    /// <returns>The soft and hard parts (their sum is the objective).</returns>
    public static (Tensor Soft, Tensor Hard) Objective(Tensor dPos, Tensor dNeg, Tensor pPos, Tensor pNeg, Tensor hardPos, Tensor hardNeg, Tensor? subsamplingWeights = null)
    {
        ArgumentNullException.ThrowIfNull(dPos);
        ArgumentNullException.ThrowIfNull(dNeg);
        ArgumentNullException.ThrowIfNull(pPos);
        ArgumentNullException.ThrowIfNull(pNeg);
        ArgumentNullException.ThrowIfNull(hardPos);
        ArgumentNullException.ThrowIfNull(hardNeg);
        var w = subsamplingWeights;
        var soft = KgeLossMath.Mean(pPos * dPos, w) + KgeLossMath.Mean(pNeg * dNeg, w);
        var hard = KgeLossMath.Mean((1 - pPos) * hardPos, w) + KgeLossMath.Mean((1 - pNeg) * hardNeg, w);
        return (soft, hard);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements
    {
        get
        {
            var scores = LossRequirements.None
                .Feature(Student, KgeParticipant.PositiveScores).Feature(Student, KgeParticipant.NegativeScores)
                .Feature(Teacher, KgeParticipant.PositiveScores).Feature(Teacher, KgeParticipant.NegativeScores);
            return UseStructure
                ? scores.Feature(Student, KgeParticipant.HeadRows).Feature(Student, KgeParticipant.TailRows)
                    .Feature(Teacher, KgeParticipant.HeadRows).Feature(Teacher, KgeParticipant.TailRows)
                : scores;
        }
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var s = context.Output(Student);
        var t = context.Output(Teacher);
        var sPos = s.Feature(KgeParticipant.PositiveScores, Student);
        var sNeg = s.Feature(KgeParticipant.NegativeScores, Student);
        var tPos = t.Feature(KgeParticipant.PositiveScores, Teacher);
        var tNeg = t.Feature(KgeParticipant.NegativeScores, Teacher);
        KgeLossMath.CheckPositives(sPos, "student positive scores");
        KgeLossMath.CheckNegatives(sNeg, sPos, "student negative scores");
        KgeLossMath.SameShape(sPos, "student positive scores", tPos, "teacher positive scores");
        KgeLossMath.SameShape(sNeg, "student negative scores", tNeg, "teacher negative scores");

        var w = KgeLossMath.NegativeWeights(sNeg, AdversarialTemperature);
        var subsampling = KgeLossMath.SubsamplingWeights(context);
        var dPos = ScoreDistillationLoss.ScoreDistance(sPos, tPos);
        if (UseStructure)
        {
            dPos = dPos + EmbeddingStructure.Distance(
                s.Feature(KgeParticipant.HeadRows, Student), s.Feature(KgeParticipant.TailRows, Student),
                t.Feature(KgeParticipant.HeadRows, Teacher), t.Feature(KgeParticipant.TailRows, Teacher));
        }
        var dNeg = (w * ScoreDistillationLoss.ScoreDistance(sNeg, tNeg)).sum(1);
        var pPos = DualDEWeights.Positive(Weights.StudentPositive, tPos);
        var pNeg = (w * DualDEWeights.Negative(Weights.StudentNegative, tNeg)).sum(1);
        var (softS, hardS) = Objective(
            dPos, dNeg, pPos, pNeg,
            SelfAdversarialLoss.PositiveTerm(sPos), SelfAdversarialLoss.NegativeTerm(sNeg, w), subsampling);
        var parts = new Dictionary<string, Tensor>
        {
            [$"{Name}.soft-student"] = softS,
            [$"{Name}.hard-student"] = hardS,
            [$"{Name}.p-pos"] = pPos.detach().mean(),
            [$"{Name}.p-neg"] = pNeg.detach().mean(),
        };
        var total = softS + hardS;
        if (AdjustTeacher)
        {
            var wT = KgeLossMath.NegativeWeights(tNeg, AdversarialTemperature);
            var qPos = DualDEWeights.Positive(Weights.TeacherPositive, sPos);
            var qNeg = (w * DualDEWeights.Negative(Weights.TeacherNegative, sNeg)).sum(1);
            var (softT, hardT) = Objective(
                dPos, dNeg, qPos, qNeg,
                SelfAdversarialLoss.PositiveTerm(tPos), SelfAdversarialLoss.NegativeTerm(tNeg, wT), subsampling);
            parts[$"{Name}.soft-teacher"] = softT;
            parts[$"{Name}.hard-teacher"] = hardT;
            parts[$"{Name}.q-pos"] = qPos.detach().mean();
            parts[$"{Name}.q-neg"] = qNeg.detach().mean();
            total = total + softT + hardT;
        }
        parts[Name] = total;
        return new LossResult(total, parts);
    }
}
