using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The squared Maximum Mean Discrepancy with a Gaussian kernel (Gretton et al., JMLR 2012), the biased (V-statistic) estimate:
/// <c>MMD²(X, Y) = mean_{a,a'} k(x_a, x_a') + mean_{b,b'} k(y_b, y_b') − 2 mean_{a,b} k(x_a, y_b)</c> with
/// <c>k(u, v) = Σ_σ exp(−‖u − v‖² / (2σ²))</c> over one or more bandwidths σ. A distance between the two batches as
/// distributions (the representation graph's matching), not between paired rows: with a batch of one it only compares two points.
/// </summary>
public static class GaussianMmd
{
    /// <summary>The default bandwidths {0.5, 1, 2}, suited to L2-normalised features (pairwise distances in [0, 2]).</summary>
    public static IReadOnlyList<double> DefaultBandwidths { get; } = new[] { 0.5, 1.0, 2.0 };

    /// <summary>The biased MMD² estimate (a scalar) between the rows of <paramref name="x"/> [n, d] and <paramref name="y"/> [m, d].</summary>
    /// <param name="x">The first sample [n, d].</param>
    /// <param name="y">The second sample [m, d].</param>
    /// <param name="bandwidths">The kernel bandwidths σ &gt; 0 (default <see cref="DefaultBandwidths"/>).</param>
    /// <exception cref="ArgumentException">Not two 2-D floating point tensors of one feature dimension and device, or no bandwidth.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A bandwidth is not &gt; 0.</exception>
    public static Tensor Squared(Tensor x, Tensor y, IReadOnlyList<double>? bandwidths = null)
    {
        Guard.Rank(x, 2, nameof(x), "[n, features]");
        Guard.Rank(y, 2, nameof(y), "[m, features]");
        Guard.FloatingPoint(x, nameof(x));
        Guard.FloatingPoint(y, nameof(y));
        if (x.shape[1] != y.shape[1])
        {
            throw new ArgumentException($"The samples' feature dimensions differ: x {Guard.Shape(x)}, y {Guard.Shape(y)}.", nameof(y));
        }

        Guard.SameDevice(y, nameof(y), x, nameof(x));
        var sigmas = CheckBandwidths(bandwidths ?? DefaultBandwidths);
        return Kernel(x, x, sigmas).mean() + Kernel(y, y, sigmas).mean() - (2 * Kernel(x, y, sigmas).mean());
    }

    /// <summary>Checks bandwidths: at least one, each finite and &gt; 0.</summary>
    /// <param name="bandwidths">The bandwidths.</param>
    /// <returns>A copy.</returns>
    internal static double[] CheckBandwidths(IReadOnlyList<double> bandwidths)
    {
        ArgumentNullException.ThrowIfNull(bandwidths);
        if (bandwidths.Count == 0)
        {
            throw new ArgumentException("MMD needs at least one kernel bandwidth.", nameof(bandwidths));
        }

        return bandwidths.Select(b => Guard.Positive(b, nameof(bandwidths))).ToArray();
    }

    private static Tensor Kernel(Tensor a, Tensor b, double[] sigmas)
    {
        // ‖a − b‖² = ‖a‖² + ‖b‖² − 2⟨a, b⟩, clamped at 0 (rounding); no square root, so the gradient at a = b is finite.
        var squared = (a.pow(2).sum(1, keepdim: true) + b.pow(2).sum(1).unsqueeze(0) - (2 * a.matmul(b.t()))).clamp_min(0);
        var k = zeros_like(squared);
        foreach (var sigma in sigmas)
        {
            k = k + (squared / (-2 * sigma * sigma)).exp();
        }

        return k;
    }
}
