namespace KnowledgeDistillation.Losses;

/// <summary>Factory helpers for composing losses in code.</summary>
public static class Loss
{
    /// <summary>Wraps any <see cref="IDistillationLoss"/> so it composes with <c>*</c> and <c>+</c>.</summary>
    /// <param name="loss">The loss.</param>
    public static DistillationLoss Of(IDistillationLoss loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return loss as DistillationLoss ?? new WeightedLoss(1.0, loss);
    }

    /// <summary>Sums losses.</summary>
    /// <param name="terms">The losses, with distinct names.</param>
    public static DistillationLoss Sum(params IDistillationLoss[] terms) => new SumLoss(terms);

    /// <summary>Scales a loss by a constant weight.</summary>
    /// <param name="weight">A finite weight &gt;= 0.</param>
    /// <param name="loss">The loss.</param>
    public static DistillationLoss Weighted(double weight, IDistillationLoss loss) => new WeightedLoss(weight, loss);

    /// <summary>Scales a loss by an epoch-dependent weight (for warm-ups of distillation terms).</summary>
    /// <param name="weightForEpoch">Weight for an epoch within the stage (from 0).</param>
    /// <param name="loss">The loss.</param>
    public static DistillationLoss Scheduled(Func<int, double> weightForEpoch, IDistillationLoss loss) => new WeightedLoss(weightForEpoch, loss);

    /// <summary>
    /// Hinton et al.'s objective in the common convention: <c>(1 - alpha) * CE + alpha * KD(T)</c>,
    /// with the KD term scaled by T² and reduced as a batch mean.
    /// </summary>
    /// <param name="temperature">Softmax temperature T &gt; 0 (4 is the usual CIFAR setting).</param>
    /// <param name="alpha">Weight of the distillation term, in [0, 1].</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    public static DistillationLoss Hinton(double temperature = 4.0, double alpha = 0.9, string student = "student", string teacher = "teacher")
    {
        Guard.InRange(alpha, 0, 1, nameof(alpha));
        return (1 - alpha) * new CrossEntropyLoss(student) + alpha * new KDLoss(temperature, student, teacher);
    }

    /// <summary>
    /// Deep Mutual Learning (Zhang et al. 2018) for a cohort: one cross-entropy per peer (reported as "ce.&lt;peer&gt;") plus
    /// a <see cref="MutualLearningLoss"/> ("dml"), so the total is <c>Σ_k L_Θk</c> and one backward pass gives every peer
    /// the gradient of its own objective (the simultaneous update; make every peer trainable).
    /// </summary>
    /// <param name="peers">The cohort's participant names: at least two, distinct.</param>
    /// <param name="temperature">Softmax temperature of the mutual term, T &gt; 0 (the paper: 1).</param>
    /// <param name="target">Each peer matches every other peer (default, the paper's Eq. 5) or their mean distribution.</param>
    /// <exception cref="ArgumentException">Fewer than two peers, an empty or repeated name, or T &lt;= 0.</exception>
    public static DistillationLoss MutualLearning(IReadOnlyList<string> peers, double temperature = 1.0, MutualLearningTarget target = MutualLearningTarget.PerPeer)
    {
        var mutual = new MutualLearningLoss(peers, temperature, target);
        return Sum(mutual.Peers.Select(p => (IDistillationLoss)new CrossEntropyLoss(p, name: $"ce.{p}")).Append(mutual).ToArray());
    }
}
