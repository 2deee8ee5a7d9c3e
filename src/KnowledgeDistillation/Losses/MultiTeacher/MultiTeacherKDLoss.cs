using KnowledgeDistillation.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Knowledge distillation from K teachers at once: the student matches each teacher's temperature-softened distribution,
/// the per-sample KLs weighted per sample and teacher,
/// <c>L = T² / B · Σ_i Σ_k w_ik · KL(p_ik ‖ q_i)</c> with <c>p_ik = softmax(z_ik / T)</c> (teacher k) and <c>q_i = softmax(s_i / T)</c>
/// (student). The weights <c>w</c> come from the <see cref="TeacherWeighting"/>: the average, fixed weights, CA-MKD's
/// label confidence, EBKD's entropy, or a learned <see cref="TeacherWeightingNetwork"/>. Reads every teacher's logits (declared,
/// so the engine runs them) and, for the confidence and learned weightings, the labels. The teachers are always detached.
/// Parts: "NAME" (the total), "NAME.weight-TEACHER" (the batch-mean weight of each teacher, detached) and, when learned,
/// "NAME.kd" (the KD part) and "NAME.weighting-ce" (the weighting network's objective, unweighted).
/// </summary>
/// <remarks>
/// For weights that do not depend on the student, the student's gradient is that of KD against the weighted mixture of the
/// teachers' distributions <c>Σ_k w_ik p_ik</c> (the two objectives differ by the teachers' entropies only), so
/// <see cref="TeacherWeighting.Average"/> is KD on averaged soft targets. The value follows the authors' code (CA-MKD's
/// <c>helper/loops.py</c>, which also holds its AVERAGE_LOSS and EBKD baselines): a weighted sum of per-teacher KLs, not the KL
/// to the mixture. Learned weights, trained through the KD term, would drift towards the teacher the student already matches;
/// here the weighting network is instead trained on the labels: its weights are detached in the KD part and it minimises the
/// cross-entropy of the weighted teacher ensemble at T = 1, <c>−1/B · Σ_i log Σ_k w_ik softmax(z_ik)[y_i]</c>, scaled by
/// <see cref="WeightingLossWeight"/>. This is this library's rule (learned instance-level teacher weights are also the idea of
/// AMTML-KD, Liu, Zhang and Wang 2020, whose objective differs).
/// </remarks>
public sealed class MultiTeacherKDLoss : DistillationLoss
{
    private readonly double[]? _fixedWeights;

    /// <summary>Creates the loss.</summary>
    /// <param name="teachers">The teachers' participant names: at least two, distinct, none the student.</param>
    /// <param name="weighting">How the teachers are weighted.</param>
    /// <param name="temperature">The softmax temperature (a number or a <see cref="TemperatureSchedule"/>).</param>
    /// <param name="fixedWeights">For <see cref="TeacherWeighting.Fixed"/> only: one weight &gt;= 0 per teacher, not all 0 (normalised to sum 1).</param>
    /// <param name="network">For <see cref="TeacherWeighting.Learned"/> only: the weighting module, built for K teachers and the class count.</param>
    /// <param name="weightingLossWeight">For <see cref="TeacherWeighting.Learned"/>: the weight of the network's ensemble cross-entropy, &gt;= 0.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name (default "mt-kd").</param>
    /// <exception cref="ArgumentException">Fewer than two teachers, a repeated name, the student among the teachers, or weights / a network given
    /// that the weighting does not use, or missing when it does, or of the wrong count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A fixed weight is negative or not finite, or the weighting loss weight is.</exception>
    public MultiTeacherKDLoss(
        IReadOnlyList<string> teachers,
        TeacherWeighting weighting = TeacherWeighting.Average,
        TemperatureSchedule? temperature = null,
        IReadOnlyList<double>? fixedWeights = null,
        TeacherWeightingNetwork? network = null,
        double weightingLossWeight = 1.0,
        string student = "student",
        string name = "mt-kd")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(teachers);
        Student = Guard.Name(student, nameof(student));
        Teachers = teachers.Select(t => Guard.Name(t, nameof(teachers))).ToArray();
        if (Teachers.Count < 2)
        {
            throw new ArgumentException($"Multi-teacher KD needs at least two teachers; got {Teachers.Count}. For one teacher use Loss.KD.", nameof(teachers));
        }

        if (Teachers.Distinct(StringComparer.Ordinal).Count() != Teachers.Count || Teachers.Contains(Student, StringComparer.Ordinal))
        {
            throw new ArgumentException(
                $"The teachers must be distinct and differ from the student '{Student}'; got {string.Join(", ", Teachers.Select(t => $"'{t}'"))}.", nameof(teachers));
        }

        if (!Enum.IsDefined(weighting))
        {
            throw new ArgumentOutOfRangeException(nameof(weighting), weighting, "Unknown teacher weighting.");
        }

        Weighting = weighting;
        TemperatureSchedule = temperature ?? TemperatureSchedule.Constant(4.0);
        WeightingLossWeight = Guard.NonNegative(weightingLossWeight, nameof(weightingLossWeight));
        _fixedWeights = weighting == TeacherWeighting.Fixed
            ? NormalisedWeights(fixedWeights ?? throw new ArgumentException("TeacherWeighting.Fixed needs fixedWeights, one per teacher.", nameof(fixedWeights)), Teachers.Count)
            : fixedWeights is null ? null : throw new ArgumentException($"fixedWeights are only used by TeacherWeighting.Fixed, not {weighting}.", nameof(fixedWeights));
        if (weighting == TeacherWeighting.Learned)
        {
            Network = network ?? throw new ArgumentException("TeacherWeighting.Learned needs a TeacherWeightingNetwork.", nameof(network));
            if (network.Teachers != Teachers.Count)
            {
                throw new ArgumentException($"The weighting network is built for {network.Teachers} teachers, but the loss has {Teachers.Count}.", nameof(network));
            }
        }
        else if (network is not null)
        {
            throw new ArgumentException($"A weighting network is only used by TeacherWeighting.Learned, not {weighting}.", nameof(network));
        }
    }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teachers' participant names, in weighting order.</summary>
    public IReadOnlyList<string> Teachers { get; }

    /// <summary>How the teachers are weighted.</summary>
    public TeacherWeighting Weighting { get; }

    /// <summary>The fixed weights normalised to sum 1 (for <see cref="TeacherWeighting.Fixed"/>; otherwise null).</summary>
    public IReadOnlyList<double>? FixedWeights => _fixedWeights;

    /// <summary>The weighting module (for <see cref="TeacherWeighting.Learned"/>; otherwise null).</summary>
    public TeacherWeightingNetwork? Network { get; }

    /// <summary>The weight of the weighting network's ensemble cross-entropy (learned weighting only).</summary>
    public double WeightingLossWeight { get; }

    /// <summary>The temperature per stage epoch.</summary>
    public TemperatureSchedule TemperatureSchedule { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements
    {
        get
        {
            var logits = LossRequirements.None.Logits(Teachers.Prepend(Student).ToArray());
            return Weighting is TeacherWeighting.Confidence or TeacherWeighting.Learned ? logits.Targets() : logits;
        }
    }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => Network is null ? Array.Empty<nn.Module>() : new nn.Module[] { Network };

    /// <summary>
    /// The per-sample, per-teacher KLs <c>T² · KL(softmax(z_ik / T) ‖ softmax(s_i / T))</c>, [batch, K].
    /// </summary>
    /// <param name="studentLogits">Student logits [batch, classes].</param>
    /// <param name="teacherLogits">Each teacher's logits, of the student's shape (used as given: detach them yourself if needed).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <exception cref="ArgumentException">Fewer than two teachers, or shapes, class counts, dtypes or devices differ.</exception>
    public static Tensor PerTeacherKL(Tensor studentLogits, IReadOnlyList<Tensor> teacherLogits, double temperature)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        CheckTeachers(studentLogits, teacherLogits);
        Guard.Positive(temperature, nameof(temperature));
        var logStudent = nn.functional.log_softmax(studentLogits / temperature, 1);
        var kls = teacherLogits.Select(t =>
        {
            var logTeacher = nn.functional.log_softmax(t / temperature, 1);
            var p = logTeacher.exp();
            return (p * (logTeacher - logStudent)).masked_fill(p.eq(0), 0.0).sum(1);
        }).ToArray();
        return stack(kls, 1) * (temperature * temperature);
    }

    /// <summary>
    /// The weights [batch, K] of a weighting that needs no module (<see cref="TeacherWeighting.Average"/>, <see cref="TeacherWeighting.Fixed"/>,
    /// <see cref="TeacherWeighting.Confidence"/>, <see cref="TeacherWeighting.Entropy"/>); see <see cref="TeacherWeighting"/> for the formulas.
    /// </summary>
    /// <param name="weighting">The weighting.</param>
    /// <param name="teacherLogits">Each teacher's logits [batch, classes].</param>
    /// <param name="targets">Class indices [batch] (confidence weighting only; otherwise may be null).</param>
    /// <param name="fixedWeights">One weight per teacher (fixed weighting only; normalised to sum 1).</param>
    /// <exception cref="ArgumentException">Missing labels or weights, bad shapes, or the learned weighting (use its network).</exception>
    public static Tensor Weights(TeacherWeighting weighting, IReadOnlyList<Tensor> teacherLogits, Tensor? targets = null, IReadOnlyList<double>? fixedWeights = null)
    {
        ArgumentNullException.ThrowIfNull(teacherLogits);
        if (teacherLogits.Count < 2 || teacherLogits.Any(t => t is null))
        {
            throw new ArgumentException($"Teacher weights need at least two teachers' logits; got {teacherLogits.Count}.", nameof(teacherLogits));
        }

        var first = teacherLogits[0];
        CheckTeachers(first, teacherLogits);
        var (batch, k) = (first.shape[0], teacherLogits.Count);
        switch (weighting)
        {
            case TeacherWeighting.Average:
                return full(batch, k, 1.0 / k, first.dtype, first.device);
            case TeacherWeighting.Fixed:
                var normalised = NormalisedWeights(fixedWeights ?? throw new ArgumentException("The fixed weighting needs fixedWeights.", nameof(fixedWeights)), k);
                return tensor(normalised, first.dtype, first.device).unsqueeze(0).expand(batch, k);
            case TeacherWeighting.Confidence:
                ArgumentNullException.ThrowIfNull(targets);
                Guard.Labels(targets, first, nameof(targets));
                var ce = stack(teacherLogits.Select(t => nn.functional.cross_entropy(t, targets, reduction: nn.Reduction.None)).ToArray(), 1);
                return (1 - nn.functional.softmax(ce, 1)) / ((k - 1.0) * k);
            case TeacherWeighting.Entropy:
                var entropy = stack(teacherLogits.Select(Entropy).ToArray(), 1);
                var total = entropy.sum(1, keepdim: true);

                // All teachers one-hot (every entropy 0): EBKD's ratio is 0/0; each teacher then holds an equal share 1/K.
                var share = where(total.gt(0), entropy / total.clamp_min(double.Epsilon), full_like(entropy, 1.0 / k));
                return (1 - share) / k;
            case TeacherWeighting.Learned:
                throw new ArgumentException("Learned weights come from a TeacherWeightingNetwork: call the network on the stacked teacher logits.", nameof(weighting));
            default:
                throw new ArgumentOutOfRangeException(nameof(weighting), weighting, "Unknown teacher weighting.");
        }
    }

    /// <summary><c>1/B · Σ_i Σ_k w_ik · KL_ik</c> for per-sample KLs and weights [batch, K] (see <see cref="PerTeacherKL"/>).</summary>
    /// <param name="studentLogits">Student logits [batch, classes].</param>
    /// <param name="teacherLogits">Each teacher's logits, of the student's shape.</param>
    /// <param name="weights">Weights [batch, K].</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <exception cref="ArgumentException">Bad shapes.</exception>
    public static Tensor Value(Tensor studentLogits, IReadOnlyList<Tensor> teacherLogits, Tensor weights, double temperature)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var kl = PerTeacherKL(studentLogits, teacherLogits, temperature);
        if (!weights.shape.SequenceEqual(kl.shape))
        {
            throw new ArgumentException($"The weights must be [batch, K] = {Guard.Shape(kl)}; got {Guard.Shape(weights)}.", nameof(weights));
        }

        return (weights * kl).sum() / studentLogits.shape[0];
    }

    /// <summary>
    /// The learned weighting's objective, the cross-entropy of the weighted teacher ensemble at T = 1:
    /// <c>−1/B · Σ_i log Σ_k exp(log w_ik + log_softmax(z_ik)[y_i])</c>.
    /// </summary>
    /// <param name="logWeights">Log-weights [batch, K] (the network's output).</param>
    /// <param name="teacherLogits">Each teacher's logits [batch, classes].</param>
    /// <param name="targets">Class indices [batch].</param>
    public static Tensor EnsembleCrossEntropy(Tensor logWeights, IReadOnlyList<Tensor> teacherLogits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logWeights);
        ArgumentNullException.ThrowIfNull(targets);
        CheckTeachers(teacherLogits[0], teacherLogits);
        Guard.Labels(targets, teacherLogits[0], nameof(targets));
        var logTarget = stack(teacherLogits.Select(t => nn.functional.log_softmax(t, 1).gather(1, targets.unsqueeze(1)).squeeze(1)).ToArray(), 1);
        return -(logWeights + logTarget).logsumexp(1).mean();
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var student = context.Output(Student).RequireLogits(Student);
        var teachers = Teachers.Select(t => context.Output(t).RequireLogits(t).detach()).ToArray();
        var temperature = TemperatureSchedule.At(context.Epoch);
        var parts = new Dictionary<string, Tensor>();
        Tensor total;
        Tensor weights;
        if (Weighting == TeacherWeighting.Learned)
        {
            var targets = context.Batch.RequireTargets();
            CheckTeachers(student, teachers);
            var logWeights = Network!.call(stack(teachers, 1));
            weights = logWeights.exp();
            var kd = Value(student, teachers, weights.detach(), temperature);
            var weightingCe = EnsembleCrossEntropy(logWeights, teachers, targets);
            total = kd + (WeightingLossWeight * weightingCe);
            parts[$"{Name}.kd"] = kd.detach();
            parts[$"{Name}.weighting-ce"] = weightingCe.detach();
        }
        else
        {
            var targets = Weighting == TeacherWeighting.Confidence ? context.Batch.RequireTargets() : null;
            CheckTeachers(student, teachers);
            weights = Weights(Weighting, teachers, targets, _fixedWeights);
            total = Value(student, teachers, weights, temperature);
        }

        parts[Name] = total;
        var meanWeights = weights.detach().mean(new long[] { 0 });
        for (var k = 0; k < Teachers.Count; k++)
        {
            parts[$"{Name}.weight-{Teachers[k]}"] = meanWeights[k];
        }

        return new LossResult(total, parts);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Network?.Dispose();
        }
    }

    private static Tensor Entropy(Tensor logits)
    {
        var logP = nn.functional.log_softmax(logits, 1);
        var p = logP.exp();
        return -(p * logP).masked_fill(p.eq(0), 0.0).sum(1);
    }

    private static void CheckTeachers(Tensor studentLogits, IReadOnlyList<Tensor> teacherLogits)
    {
        ArgumentNullException.ThrowIfNull(teacherLogits);
        if (teacherLogits.Count < 2)
        {
            throw new ArgumentException($"Multi-teacher KD needs at least two teachers' logits; got {teacherLogits.Count}.", nameof(teacherLogits));
        }

        for (var k = 0; k < teacherLogits.Count; k++)
        {
            ArgumentNullException.ThrowIfNull(teacherLogits[k], nameof(teacherLogits));
            Guard.MatchingLogits(studentLogits, "student logits", teacherLogits[k], $"teacher {k} logits");
        }
    }

    private static double[] NormalisedWeights(IReadOnlyList<double> weights, int teachers)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != teachers)
        {
            throw new ArgumentException($"fixedWeights must hold one weight per teacher ({teachers}); got {weights.Count}.", "fixedWeights");
        }

        foreach (var w in weights)
        {
            Guard.NonNegative(w, "fixedWeights");
        }

        var sum = weights.Sum();
        return sum > 0 ? weights.Select(w => w / sum).ToArray() : throw new ArgumentException("fixedWeights must not all be 0.", "fixedWeights");
    }
}

public static partial class Loss
{
    /// <summary>
    /// KD from K teachers with a <see cref="TeacherWeighting"/> that needs no module: averaged (You et al. 2017, KDD), CA-MKD's
    /// label confidence (Zhang, Chen and Wang, ICASSP 2022) or EBKD's entropy (Kwon et al., ICASSP 2020). The term alone; see
    /// <see cref="MultiTeacherKDLoss"/> for the formula and parts. The usual objective adds CE: <see cref="MultiTeacher"/>.
    /// </summary>
    /// <param name="teachers">The teachers' participant names (at least two).</param>
    /// <param name="weighting">Average, Confidence or Entropy (Fixed: pass the weights to the overload; Learned: <see cref="LearnedMultiTeacherKD"/>).</param>
    /// <param name="temperature">The temperature (a number or a schedule); default 4.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static MultiTeacherKDLoss MultiTeacherKD(
        IReadOnlyList<string> teachers, TeacherWeighting weighting = TeacherWeighting.Average, TemperatureSchedule? temperature = null, string student = "student", string name = "mt-kd") =>
        new(teachers, weighting, temperature, student: student, name: name);

    /// <summary>KD from K teachers with fixed weights (normalised to sum 1), the same for every sample; see <see cref="MultiTeacherKDLoss"/>.</summary>
    /// <param name="teachers">The teachers' participant names (at least two).</param>
    /// <param name="weights">One weight &gt;= 0 per teacher, not all 0.</param>
    /// <param name="temperature">The temperature (a number or a schedule); default 4.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static MultiTeacherKDLoss MultiTeacherKD(
        IReadOnlyList<string> teachers, IReadOnlyList<double> weights, TemperatureSchedule? temperature = null, string student = "student", string name = "mt-kd") =>
        new(teachers, TeacherWeighting.Fixed, temperature, fixedWeights: weights, student: student, name: name);

    /// <summary>
    /// KD from K teachers with per-sample weights from a trainable <see cref="TeacherWeightingNetwork"/> (a loss module the engine
    /// trains), itself trained on the labels through the weighted teacher ensemble; see <see cref="MultiTeacherKDLoss"/>.
    /// </summary>
    /// <param name="teachers">The teachers' participant names (at least two).</param>
    /// <param name="classes">The number of classes.</param>
    /// <param name="temperature">The temperature (a number or a schedule); default 4.</param>
    /// <param name="weightingLossWeight">Weight of the network's ensemble cross-entropy, &gt;= 0.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static MultiTeacherKDLoss LearnedMultiTeacherKD(
        IReadOnlyList<string> teachers, int classes, TemperatureSchedule? temperature = null, double weightingLossWeight = 1.0, string student = "student", string name = "mt-kd")
    {
        ArgumentNullException.ThrowIfNull(teachers);
        return new(teachers, TeacherWeighting.Learned, temperature, network: new TeacherWeightingNetwork(teachers.Count, classes), weightingLossWeight: weightingLossWeight, student: student, name: name);
    }

    /// <summary>
    /// The multi-teacher objective: <c>(1 − alpha) · CE + alpha · MT-KD</c> with the given term (from <see cref="MultiTeacherKD(IReadOnlyList{string}, TeacherWeighting, TemperatureSchedule?, string, string)"/>
    /// or <see cref="LearnedMultiTeacherKD"/>). Parts "ce" and the term's.
    /// </summary>
    /// <param name="term">The multi-teacher KD term.</param>
    /// <param name="alpha">Weight of the distillation term, in [0, 1].</param>
    public static DistillationLoss MultiTeacher(MultiTeacherKDLoss term, double alpha = 0.9)
    {
        ArgumentNullException.ThrowIfNull(term);
        Guard.InRange(alpha, 0, 1, nameof(alpha));
        return (1 - alpha) * new CrossEntropyLoss(term.Student) + alpha * term;
    }
}

public static partial class Recipes
{
    /// <summary>
    /// Multi-teacher KD: one stage of <see cref="Loss.MultiTeacher"/> with frozen teachers (give every teacher as a frozen
    /// <see cref="Teacher"/> participant, named as in the term). Name "mt-kd-average", "mt-kd-fixed", "mt-kd-confidence",
    /// "mt-kd-entropy" or "mt-kd-learned" after the weighting.
    /// </summary>
    /// <param name="term">The multi-teacher KD term.</param>
    /// <param name="alpha">Weight of the distillation term, in [0, 1].</param>
    public static DistillationRecipe MultiTeacher(MultiTeacherKDLoss term, double alpha = 0.9)
    {
        ArgumentNullException.ThrowIfNull(term);
        return DistillationRecipe.FromLoss($"mt-kd-{term.Weighting.ToString().ToLowerInvariant()}", Loss.MultiTeacher(term, alpha));
    }
}
