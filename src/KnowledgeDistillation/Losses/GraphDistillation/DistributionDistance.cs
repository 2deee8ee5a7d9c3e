using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The distance a <see cref="LogitsGraphLoss"/> uses to match the student's class distribution to each teacher's, per sample.
/// Zhang and Peng (IJCAI 2018) use the Earth Mover's Distance; the ground cost is not pinned down by what could be verified
/// of the paper, so the distance is a choice: <see cref="OrderedEmd"/>, <see cref="ZeroOneEmd"/>, <see cref="SinkhornEmd"/>
/// for any cost, or <see cref="KL"/> (Hinton's KD direction) for comparison.
/// </summary>
public abstract class DistributionDistance
{
    private DistributionDistance(string name) => Name = name;

    /// <summary>A short name for reports ("emd-ordered", "emd-01", "emd-sinkhorn", "kl").</summary>
    public string Name { get; }

    /// <summary>The exact EMD under the ordered cost <c>|c − c'|</c> (<see cref="EarthMoversDistance.Ordered"/>): for classes with a natural order.</summary>
    public static DistributionDistance OrderedEmd() => new Ordered();

    /// <summary>The exact EMD under the 0-1 cost <c>1 − I</c>, the total variation (<see cref="EarthMoversDistance.TotalVariation"/>): for unordered classes.</summary>
    public static DistributionDistance ZeroOneEmd() => new ZeroOne();

    /// <summary>The entropic EMD for a general ground cost, log-space Sinkhorn (<see cref="EarthMoversDistance.Sinkhorn"/>).</summary>
    /// <param name="cost">The ground cost [classes, classes]; moved to the distributions' device and dtype when used.</param>
    /// <param name="epsilon">The entropic regularisation ε &gt; 0.</param>
    /// <param name="iterations">Sinkhorn iterations, &gt;= 1.</param>
    /// <exception cref="ArgumentException">The cost is not a square floating point matrix.</exception>
    /// <exception cref="ArgumentOutOfRangeException">ε &lt;= 0 or fewer than one iteration.</exception>
    public static DistributionDistance SinkhornEmd(Tensor cost, double epsilon = 0.1, int iterations = 200)
    {
        ArgumentNullException.ThrowIfNull(cost);
        EarthMoversDistance.CheckCost(cost, cost.dim() == 2 ? cost.shape[0] : -1, nameof(cost));
        Guard.Positive(epsilon, nameof(epsilon));
        return iterations >= 1 ? new SinkhornDistance(cost.detach().clone().DetachFromDisposeScope(), epsilon, iterations) : throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "'iterations' must be >= 1.");
    }

    /// <summary><c>KL(p_teacher ‖ p_student)</c> per sample (no T² factor; the loss weight scales it).</summary>
    public static DistributionDistance KL() => new Kl();

    /// <summary>The distance per sample [batch] between the student's and a teacher's distributions, both given as log-probabilities.</summary>
    /// <param name="studentLogProbabilities">The student's log-probabilities [batch, classes].</param>
    /// <param name="teacherLogProbabilities">The teacher's log-probabilities of the same shape.</param>
    /// <exception cref="ArgumentException">Shapes differ, or (Sinkhorn) the cost does not fit the class count.</exception>
    public abstract Tensor Between(Tensor studentLogProbabilities, Tensor teacherLogProbabilities);

    /// <inheritdoc />
    public override string ToString() => Name;

    private sealed class Ordered() : DistributionDistance("emd-ordered")
    {
        public override Tensor Between(Tensor studentLogProbabilities, Tensor teacherLogProbabilities) =>
            EarthMoversDistance.Ordered(studentLogProbabilities.exp(), teacherLogProbabilities.exp());
    }

    private sealed class ZeroOne() : DistributionDistance("emd-01")
    {
        public override Tensor Between(Tensor studentLogProbabilities, Tensor teacherLogProbabilities) =>
            EarthMoversDistance.TotalVariation(studentLogProbabilities.exp(), teacherLogProbabilities.exp());
    }

    private sealed class SinkhornDistance(Tensor cost, double epsilon, int iterations) : DistributionDistance("emd-sinkhorn")
    {
        public override Tensor Between(Tensor studentLogProbabilities, Tensor teacherLogProbabilities)
        {
            ArgumentNullException.ThrowIfNull(studentLogProbabilities);
            EarthMoversDistance.CheckCost(cost, studentLogProbabilities.dim() == 2 ? studentLogProbabilities.shape[1] : -1, "cost");
            var d = cost.to(studentLogProbabilities.dtype, studentLogProbabilities.device);
            return EarthMoversDistance.Sinkhorn(studentLogProbabilities, teacherLogProbabilities, d, epsilon, iterations);
        }
    }

    private sealed class Kl() : DistributionDistance("kl")
    {
        public override Tensor Between(Tensor studentLogProbabilities, Tensor teacherLogProbabilities)
        {
            Guard.Logits(studentLogProbabilities, "student log-probabilities");
            Guard.SameShape(teacherLogProbabilities, "teacher log-probabilities", studentLogProbabilities, "student log-probabilities");
            var p = teacherLogProbabilities.exp();
            return (p * (teacherLogProbabilities - studentLogProbabilities)).masked_fill(p.eq(0), 0.0).sum(1);
        }
    }
}
