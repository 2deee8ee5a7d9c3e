using KnowledgeDistillation.Engine;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Decoupled knowledge distillation (Zhao, Cui, Song, Qiu and Liang, CVPR 2022, arXiv 2203.08679; official code
/// mdistiller <c>distillers/DKD.py</c>): the KD term split into target-class KD, the KL between the binary distributions
/// <c>b = [p_gt, 1 − p_gt]</c> of teacher and student, and non-target-class KD, the KL between the distributions over the
/// other classes renormalised among themselves, weighted independently:
/// <c>w(epoch) · (α · TCKD + β · NCKD)</c>, each KL scaled by T² and reduced as a batch mean. Reads the batch's labels.
/// Parts: "NAME" (the weighted total), "NAME.tckd" and "NAME.nckd" (the unweighted T²-scaled KLs).
/// </summary>
/// <remarks>
/// The official code removes the target class from the NCKD softmax by subtracting 1000 from its logit (divided by T);
/// here it is removed exactly (the other classes are gathered), which differs by a term of order <c>exp(−1000)</c>. The
/// binary log-probabilities are formed with <c>logsumexp</c> instead of <c>log</c> of summed probabilities, so a target
/// probability that underflows to 0 gives a finite loss. The warm-up is mdistiller's <c>min(epoch / warmup, 1)</c> with
/// its epochs counted from 1, i.e. <c>min((e + 1) / warmup, 1)</c> for the engine's stage epoch <c>e</c> (from 0).
/// </remarks>
public sealed class DecoupledKDLoss : StudentTeacherLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="alpha">Weight of TCKD, a finite number &gt;= 0 (the paper: 1).</param>
    /// <param name="beta">Weight of NCKD, a finite number &gt;= 0 (CIFAR-100 res32x4 → res8x4: 8).</param>
    /// <param name="temperature">Softmax temperature T &gt; 0 (the paper: 4).</param>
    /// <param name="warmupEpochs">Linear warm-up length in epochs (mdistiller: 20); 0 for none.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    /// <param name="name">Reporting name (default "dkd").</param>
    /// <exception cref="ArgumentOutOfRangeException">A weight is negative or not finite, T &lt;= 0, or the warm-up is negative.</exception>
    public DecoupledKDLoss(
        double alpha = 1.0,
        double beta = 8.0,
        double temperature = 4.0,
        int warmupEpochs = 0,
        string student = "student",
        string teacher = "teacher",
        bool detachTeacher = true,
        string name = "dkd")
        : base(name, student, teacher, detachTeacher)
    {
        Alpha = Guard.NonNegative(alpha, nameof(alpha));
        Beta = Guard.NonNegative(beta, nameof(beta));
        Temperature = Guard.Positive(temperature, nameof(temperature));
        WarmupEpochs = warmupEpochs >= 0
            ? warmupEpochs
            : throw new ArgumentOutOfRangeException(nameof(warmupEpochs), warmupEpochs, "warmupEpochs must be >= 0 (0: no warm-up).");
    }

    /// <summary>Weight of the target-class term.</summary>
    public double Alpha { get; }

    /// <summary>Weight of the non-target-class term.</summary>
    public double Beta { get; }

    /// <summary>The softmax temperature.</summary>
    public double Temperature { get; }

    /// <summary>The warm-up length in epochs (0: none).</summary>
    public int WarmupEpochs { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements => base.Requirements.Targets();

    /// <summary>The warm-up factor at a stage epoch: <c>min((epoch + 1) / WarmupEpochs, 1)</c>, or 1 without warm-up.</summary>
    /// <param name="epoch">The epoch within the stage, from 0.</param>
    public double WarmupFactor(int epoch) => WarmupEpochs == 0 ? 1.0 : Math.Min((epoch + 1.0) / WarmupEpochs, 1.0);

    /// <summary>
    /// The two unweighted terms. TCKD: <c>T²/B · Σ_i KL(b_t,i ‖ b_s,i)</c> with <c>b = [p_gt, 1 − p_gt]</c>, <c>p = softmax(z / T)</c>.
    /// NCKD: <c>T²/B · Σ_i KL(p̂_t,i ‖ p̂_s,i)</c> with <c>p̂ = softmax</c> of the non-target logits over T.
    /// </summary>
    /// <param name="studentLogits">Student logits [batch, classes], classes &gt;= 2.</param>
    /// <param name="teacherLogits">Teacher logits of the same shape (used as given: detach them yourself if needed).</param>
    /// <param name="targets">Class indices [batch], int64.</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <exception cref="ArgumentException">Bad shapes, class counts, devices or labels, or fewer than two classes.</exception>
    public static (Tensor Tckd, Tensor Nckd) Terms(Tensor studentLogits, Tensor teacherLogits, Tensor targets, double temperature)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        ArgumentNullException.ThrowIfNull(targets);
        Guard.Positive(temperature, nameof(temperature));
        Guard.MatchingLogits(studentLogits, "student logits", teacherLogits, "teacher logits");
        if (studentLogits.shape[1] < 2)
        {
            throw new ArgumentException(
                $"DKD needs at least two classes (a target and a non-target class); got student logits {Guard.Shape(studentLogits)}.", "student logits");
        }

        Guard.Labels(targets, studentLogits, nameof(targets));
        var (batch, classes) = (studentLogits.shape[0], studentLogits.shape[1]);
        var others = nn.functional.one_hot(targets, classes).eq(0);
        var (studentBinary, studentOthers) = Split(studentLogits, targets, others, batch, classes, temperature);
        var (teacherBinary, teacherOthers) = Split(teacherLogits, targets, others, batch, classes, temperature);

        // KDLoss.Value is T²/B Σ KL(softmax(t / T) ‖ softmax(s / T)): on the binary logits it is TCKD, on the others NCKD.
        var tckd = KDLoss.Value(studentBinary, teacherBinary, temperature);
        var nckd = KDLoss.Value(studentOthers, teacherOthers, temperature);
        return (tckd, nckd);
    }

    /// <summary><c>α · TCKD + β · NCKD</c> (no warm-up). See <see cref="Terms"/>.</summary>
    /// <param name="studentLogits">Student logits [batch, classes].</param>
    /// <param name="teacherLogits">Teacher logits of the same shape.</param>
    /// <param name="targets">Class indices [batch], int64.</param>
    /// <param name="alpha">Weight of TCKD, &gt;= 0.</param>
    /// <param name="beta">Weight of NCKD, &gt;= 0.</param>
    /// <param name="temperature">T &gt; 0.</param>
    public static Tensor Value(Tensor studentLogits, Tensor teacherLogits, Tensor targets, double alpha, double beta, double temperature)
    {
        Guard.NonNegative(alpha, nameof(alpha));
        Guard.NonNegative(beta, nameof(beta));
        var (tckd, nckd) = Terms(studentLogits, teacherLogits, targets, temperature);
        return (alpha * tckd) + (beta * nckd);
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        var (student, teacher) = Logits(context);
        var (tckd, nckd) = Terms(student, teacher, context.Batch.RequireTargets(), Temperature);
        var total = ((Alpha * tckd) + (Beta * nckd)) * WarmupFactor(context.Epoch);
        return new LossResult(total, new Dictionary<string, Tensor> { [Name] = total, [$"{Name}.tckd"] = tckd.detach(), [$"{Name}.nckd"] = nckd.detach() });
    }

    /// <summary>
    /// Logits whose softmax at temperature T is the binary target / non-target distribution, <c>[z_gt, T · logsumexp(z_other / T)]</c>,
    /// and the non-target logits <c>[batch, classes − 1]</c>.
    /// </summary>
    private static (Tensor Binary, Tensor Others) Split(Tensor logits, Tensor targets, Tensor others, long batch, long classes, double temperature)
    {
        var target = logits.gather(1, targets.unsqueeze(1));
        var rest = logits.masked_select(others).view(batch, classes - 1);
        var restMass = (rest / temperature).logsumexp(1, keepdim: true) * temperature;
        return (cat(new[] { target, restMass }, 1), rest);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Zhao et al. (2022), "Decoupled Knowledge Distillation" (CVPR, arXiv 2203.08679): the TCKD + NCKD term alone,
    /// <c>w(epoch) · (α · TCKD + β · NCKD)</c>. Reports "NAME", "NAME.tckd", "NAME.nckd". The paper's objective is <see cref="Dkd"/>.
    /// </summary>
    /// <param name="alpha">Weight of TCKD, &gt;= 0.</param>
    /// <param name="beta">Weight of NCKD, &gt;= 0.</param>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="warmupEpochs">Linear warm-up length in epochs; 0 for none.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    /// <param name="name">Reporting name.</param>
    public static DecoupledKDLoss DecoupledKD(
        double alpha = 1.0,
        double beta = 8.0,
        double temperature = 4.0,
        int warmupEpochs = 0,
        string student = "student",
        string teacher = "teacher",
        bool detachTeacher = true,
        string name = "dkd") =>
        new(alpha, beta, temperature, warmupEpochs, student, teacher, detachTeacher, name);

    /// <summary>
    /// Zhao et al. (2022), "Decoupled Knowledge Distillation" (CVPR, arXiv 2203.08679), as mdistiller trains it:
    /// <c>CE + min(epoch / warmup, 1) · (α · TCKD + β · NCKD)</c>. Defaults are mdistiller's CIFAR-100 settings
    /// (α = 1, β = 8, T = 4, 20 warm-up epochs, CE weight 1). Parts "ce", "dkd", "dkd.tckd", "dkd.nckd".
    /// </summary>
    /// <param name="alpha">Weight of TCKD, &gt;= 0.</param>
    /// <param name="beta">Weight of NCKD, &gt;= 0.</param>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="warmupEpochs">Linear warm-up length in epochs; 0 for none.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    public static DistillationLoss Dkd(
        double alpha = 1.0, double beta = 8.0, double temperature = 4.0, int warmupEpochs = 20, string student = "student", string teacher = "teacher") =>
        new CrossEntropyLoss(student) + new DecoupledKDLoss(alpha, beta, temperature, warmupEpochs, student, teacher);
}

public static partial class Recipes
{
    /// <summary>
    /// Zhao et al. (2022), "Decoupled Knowledge Distillation" (CVPR, arXiv 2203.08679): one stage of <see cref="Loss.Dkd"/>
    /// with a frozen teacher (mdistiller's CIFAR-100 defaults).
    /// </summary>
    /// <param name="alpha">Weight of TCKD, &gt;= 0.</param>
    /// <param name="beta">Weight of NCKD, &gt;= 0.</param>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="warmupEpochs">Linear warm-up length in epochs; 0 for none.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    public static DistillationRecipe Dkd(
        double alpha = 1.0, double beta = 8.0, double temperature = 4.0, int warmupEpochs = 20, string student = "student", string teacher = "teacher") =>
        DistillationRecipe.FromLoss("dkd", Loss.Dkd(alpha, beta, temperature, warmupEpochs, student, teacher));
}
