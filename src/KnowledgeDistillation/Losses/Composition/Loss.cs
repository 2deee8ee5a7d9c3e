namespace KnowledgeDistillation.Losses;

/// <summary>
/// The catalogue of loss terms and the helpers that compose them. Every term class has one factory here, added by the
/// term's own file (<c>Loss.CrossEntropy</c>, <c>Loss.KD</c>, <c>Loss.RectifiedKD</c>, ...; the Graph package adds its terms
/// as static extension members, so they appear here too when its namespace is imported); a single-stage method's whole
/// objective is here as well (<see cref="Hinton"/>, <c>Loss.DrKd</c>, <c>Loss.TfKdReg</c>, <see cref="MutualLearning"/>,
/// <c>Loss.IeDml</c>), composable with <c>*</c> and <c>+</c>. Whole methods, stages included, are in <see cref="Recipes"/>.
/// Naming: a term reports its value under its name (lower-case words joined by '-', e.g. "kd-inf", "ce-peer1") and its
/// sub-parts as "name.sub"; a sum rejects two terms of one name.
/// </summary>
public static partial class Loss
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
    /// Hinton, Vinyals and Dean (2015), "Distilling the Knowledge in a Neural Network" (NIPS Deep Learning Workshop,
    /// arXiv 1503.02531), in the common convention: <c>(1 - alpha) * CE + alpha * KD(T)</c>, with the KD term scaled by
    /// T² and reduced as a batch mean. Parts "ce" and "kd".
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
    /// <see cref="Hinton"/> with a temperature that changes with the stage epoch (see
    /// <see cref="TemperatureSchedule"/>): <c>(1 - alpha) * CE + alpha * KD(T(epoch))</c>. Parts "ce" and "kd".
    /// </summary>
    /// <param name="temperature">The temperature per stage epoch.</param>
    /// <param name="alpha">Weight of the distillation term, in [0, 1].</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    public static DistillationLoss ScheduledHinton(TemperatureSchedule temperature, double alpha = 0.9, string student = "student", string teacher = "teacher")
    {
        Guard.InRange(alpha, 0, 1, nameof(alpha));
        return (1 - alpha) * new CrossEntropyLoss(student) + alpha * new KDLoss(temperature, student, teacher);
    }

    /// <summary>
    /// Zhang, Xiang, Hospedales and Lu (2018), "Deep Mutual Learning" (CVPR), for a cohort: one cross-entropy per peer
    /// (reported as "ce-&lt;peer&gt;") plus a <see cref="MutualLearningLoss"/> ("dml", parts "dml.&lt;peer&gt;"), so the total is <c>Σ_k L_Θk</c> and one backward pass gives every peer
    /// the gradient of its own objective (the simultaneous update; make every peer trainable).
    /// </summary>
    /// <param name="peers">The cohort's participant names: at least two, distinct.</param>
    /// <param name="temperature">Softmax temperature of the mutual term, T &gt; 0 (the paper: 1).</param>
    /// <param name="target">Each peer matches every other peer (default, the paper's Eq. 5) or their mean distribution.</param>
    /// <exception cref="ArgumentException">Fewer than two peers, an empty or repeated name, or T &lt;= 0.</exception>
    public static DistillationLoss MutualLearning(IReadOnlyList<string> peers, double temperature = 1.0, MutualLearningTarget target = MutualLearningTarget.PerPeer)
    {
        var mutual = new MutualLearningLoss(peers, temperature, target);
        return Sum(mutual.Peers.Select(p => (IDistillationLoss)new CrossEntropyLoss(p, name: $"ce-{p}")).Append(mutual).ToArray());
    }
}
