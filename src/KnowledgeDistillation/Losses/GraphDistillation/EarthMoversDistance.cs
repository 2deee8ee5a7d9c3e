using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The Earth Mover's Distance (1-Wasserstein) between class distributions, row by row:
/// <c>EMD(p, q) = min_{F ≥ 0, F 1 = p, Fᵀ 1 = q} ⟨F, D⟩</c> for a ground cost <c>D</c> [classes, classes]. The logits graph of
/// Zhang and Peng (IJCAI 2018) matches the student's distribution to each teacher's with it. Three forms: the exact closed
/// form for the ordered cost <c>D = |c − c'|</c> (<see cref="Ordered"/>), the exact form for the 0-1 cost <c>D = 1 − I</c>
/// (total variation, <see cref="TotalVariation"/>) and the entropic approximation for any cost (<see cref="Sinkhorn"/>).
/// </summary>
public static class EarthMoversDistance
{
    /// <summary>
    /// The exact EMD under the ordered ground cost <c>D[c, c'] = |c − c'|</c>: <c>Σ_c |CDF_p(c) − CDF_q(c)|</c>, per row.
    /// </summary>
    /// <param name="p">Distributions [batch, classes] (rows sum to 1).</param>
    /// <param name="q">Distributions of the same shape.</param>
    /// <returns>The distances [batch].</returns>
    /// <exception cref="ArgumentException">The inputs are not [batch, classes] floating point tensors of one shape.</exception>
    public static Tensor Ordered(Tensor p, Tensor q)
    {
        Check(p, q);
        return (p.cumsum(1) - q.cumsum(1)).abs().sum(1);
    }

    /// <summary>The exact EMD under the 0-1 ground cost <c>D = 1 − I</c>: the total variation <c>½ Σ_c |p_c − q_c|</c>, per row.</summary>
    /// <param name="p">Distributions [batch, classes].</param>
    /// <param name="q">Distributions of the same shape.</param>
    /// <returns>The distances [batch].</returns>
    /// <exception cref="ArgumentException">The inputs are not [batch, classes] floating point tensors of one shape.</exception>
    public static Tensor TotalVariation(Tensor p, Tensor q)
    {
        Check(p, q);
        return (p - q).abs().sum(1) * 0.5;
    }

    /// <summary>
    /// The entropic EMD for a general ground cost, solved in log space (Cuturi 2013; the log-domain updates of Peyré and Cuturi,
    /// "Computational Optimal Transport", §4.4): from potentials <c>f = g = 0</c>, <paramref name="iterations"/> times
    /// <c>f = ε (log p − LSE_j((g_j − D_ij) / ε))</c>, <c>g = ε (log q − LSE_i((f_i − D_ij) / ε))</c>; then the plan
    /// <c>F_ij = exp((f_i + g_j − D_ij) / ε)</c> and the transport cost <c>⟨F, D⟩</c> (without the entropy term). Autograd
    /// differentiates through the unrolled iterations. Takes log-probabilities, so a distribution from <c>log_softmax</c>
    /// needs no clamping. The iterations stop after a fixed count (no tolerance test, so no host sync): the plan's first
    /// marginal is only approximately p until they converge (measured on 5 classes with the ordered cost: ε = 0.1 needs ~1000
    /// iterations for 1e-7; after 50 the marginals are off by ~2.5% and the cost by ~0.07; after 200 by ~0.5% and ~0.016).
    /// </summary>
    /// <param name="logP">Log-probabilities [batch, classes] of the source distributions.</param>
    /// <param name="logQ">Log-probabilities of the target distributions, of the same shape.</param>
    /// <param name="cost">The ground cost [classes, classes], finite, on the inputs' device and of their dtype.</param>
    /// <param name="epsilon">The entropic regularisation ε &gt; 0 (smaller is closer to the exact EMD and needs more iterations).</param>
    /// <param name="iterations">Sinkhorn iterations, &gt;= 1.</param>
    /// <returns>The transport costs [batch].</returns>
    /// <exception cref="ArgumentException">Bad shapes, or a cost matrix that is not [classes, classes] for the inputs' class count.</exception>
    /// <exception cref="ArgumentOutOfRangeException">ε is not &gt; 0 or the iteration count is below 1.</exception>
    public static Tensor Sinkhorn(Tensor logP, Tensor logQ, Tensor cost, double epsilon = 0.1, int iterations = 200)
    {
        Check(logP, logQ);
        CheckCost(cost, logP.shape[1], nameof(cost));
        Guard.Positive(epsilon, nameof(epsilon));
        if (iterations < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(iterations), iterations, "'iterations' must be >= 1.");
        }

        Guard.SameDevice(cost, nameof(cost), logP, "the distributions");
        var d = cost.to_type(logP.dtype).unsqueeze(0); // [1, C, C]
        var f = zeros_like(logP);
        var g = zeros_like(logQ);
        for (var i = 0; i < iterations; i++)
        {
            f = epsilon * (logP - ((g.unsqueeze(1) - d) / epsilon).logsumexp(2));
            g = epsilon * (logQ - ((f.unsqueeze(2) - d) / epsilon).logsumexp(1));
        }

        var plan = ((f.unsqueeze(2) + g.unsqueeze(1) - d) / epsilon).exp();
        return (plan * d).sum(new long[] { 1, 2 });
    }

    /// <summary>The ordered ground cost <c>D[c, c'] = |c − c'|</c> [classes, classes] (float64 on the CPU unless told).</summary>
    /// <param name="classes">The class count, &gt;= 1.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="device">The device (default CPU).</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one class.</exception>
    public static Tensor OrderedCost(int classes, ScalarType dtype = ScalarType.Float64, Device? device = null)
    {
        if (classes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "'classes' must be >= 1.");
        }

        var c = arange(classes, dtype, device ?? CPU);
        return (c.unsqueeze(1) - c.unsqueeze(0)).abs();
    }

    /// <summary>The 0-1 ground cost <c>D = 1 − I</c> [classes, classes] (float64 on the CPU unless told).</summary>
    /// <param name="classes">The class count, &gt;= 1.</param>
    /// <param name="dtype">The element type.</param>
    /// <param name="device">The device (default CPU).</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one class.</exception>
    public static Tensor ZeroOneCost(int classes, ScalarType dtype = ScalarType.Float64, Device? device = null)
    {
        if (classes < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "'classes' must be >= 1.");
        }

        return ones(classes, classes, dtype, device ?? CPU) - eye(classes, dtype: dtype, device: device ?? CPU);
    }

    /// <summary>Checks that a ground cost is a floating point [classes, classes] matrix.</summary>
    /// <param name="cost">The cost matrix.</param>
    /// <param name="classes">The class count of the distributions.</param>
    /// <param name="what">The argument's name for the message.</param>
    /// <exception cref="ArgumentException">Another rank or size, or not floating point.</exception>
    internal static void CheckCost(Tensor cost, long classes, string what)
    {
        ArgumentNullException.ThrowIfNull(cost, what);
        if (cost.dim() != 2 || cost.shape[0] != classes || cost.shape[1] != classes)
        {
            throw new ArgumentException($"The ground cost must be [classes, classes] = [{classes}, {classes}] for distributions over {classes} classes; got {Guard.Shape(cost)}.", what);
        }

        Guard.FloatingPoint(cost, what);
    }

    private static void Check(Tensor p, Tensor q)
    {
        Guard.Logits(p, "p");
        Guard.Logits(q, "q");
        Guard.SameShape(q, "q", p, "p");
        Guard.SameDevice(q, "q", p, "p");
    }
}
