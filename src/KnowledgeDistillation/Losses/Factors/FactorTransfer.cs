using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The factor distances of Factor Transfer (Kim, Park and Kwak, "Paraphrasing Complex Network: Network Compression via
/// Factor Transfer", NeurIPS 2018, arXiv 1802.04977), shared by <see cref="FactorTransferLoss"/> (FT) and IE-KD's
/// <see cref="InheritanceExplorationLoss"/> (official IE-KD <c>loss/factor_transfer.py</c>): every sample's factor is
/// flattened and L2-normalised, <c>φ(x) = vec(x) / max(‖vec(x)‖₂, 1e-12)</c>. <see cref="SpatialFactor"/> is RepDistiller's
/// variant of φ (<c>distiller_zoo/FT.py</c>).
/// </summary>
public static class FactorTransfer
{
    /// <summary>Per-sample normalisation φ: <c>[B, ...] → [B, D]</c>, each row of unit L2 norm (a zero row stays zero).</summary>
    /// <param name="factor">A factor <c>[B, C', H, W]</c>.</param>
    public static Tensor Normalize(Tensor factor)
    {
        ArgumentNullException.ThrowIfNull(factor);
        return nn.functional.normalize(factor.reshape(factor.shape[0], -1), p: 2, dim: 1, eps: 1e-12);
    }

    /// <summary>
    /// FT with p = 1 (official <c>FTLoss(1)</c>, IE-KD's inheritance loss): <c>(1 / (B·D)) Σ_i ‖φ(x_i) − φ(y_i)‖₁</c>, the L1
    /// averaged over all B·D elements. Invariant to a positive rescaling of either sample; at most 2/D.
    /// </summary>
    /// <param name="x">A factor <c>[B, C', H, W]</c>.</param>
    /// <param name="y">A factor of the same shape.</param>
    /// <exception cref="ArgumentException">Ranks, shapes, dtypes or devices differ.</exception>
    public static Tensor L1(Tensor x, Tensor y)
    {
        CheckPair(x, y);
        return (Normalize(x) - Normalize(y)).abs().mean();
    }

    /// <summary>
    /// FT's p-distance (the paper's <c>‖φ(x) − φ(y)‖_p</c> per sample, p = 1 in its experiments, written as the official
    /// code's element mean): <c>(1 / (B·D)) Σ |φ(x) − φ(y)|^p</c>. For p = 1 this is <see cref="L1"/>.
    /// </summary>
    /// <param name="x">A factor <c>[B, C', H, W]</c>.</param>
    /// <param name="y">A factor of the same shape.</param>
    /// <param name="p">1 (L1, the paper) or 2 (squared L2).</param>
    /// <exception cref="ArgumentException">Ranks, shapes, dtypes or devices differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not 1 or 2.</exception>
    public static Tensor Distance(Tensor x, Tensor y, int p)
    {
        CheckP(p);
        CheckPair(x, y);
        return Power(Normalize(x) - Normalize(y), p).mean();
    }

    /// <summary>
    /// RepDistiller's factor (<c>FactorTransfer.factor</c> with <c>p1</c> = <paramref name="power"/>): the channel mean of
    /// the factor's elementwise power, flattened and L2-normalised per sample, <c>normalize(mean_c(x^power))</c>:
    /// <c>[B, C', H, W] → [B, H·W]</c> (an attention map of the factor, not the paper's flattened factor).
    /// </summary>
    /// <param name="factor">A factor <c>[B, C', H, W]</c>.</param>
    /// <param name="power">The elementwise power (RepDistiller: 2), &gt;= 1.</param>
    /// <exception cref="ArgumentException">The factor is not a floating-point rank-4 tensor.</exception>
    public static Tensor SpatialFactor(Tensor factor, int power = 2)
    {
        ArgumentNullException.ThrowIfNull(factor);
        Guard.Rank(factor, 4, nameof(factor), "[batch, channels, H, W]");
        Guard.FloatingPoint(factor, nameof(factor));
        if (power < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(power), power, "power must be >= 1.");
        }

        return nn.functional.normalize(factor.pow(power).mean(new long[] { 1 }).reshape(factor.shape[0], -1), p: 2, dim: 1, eps: 1e-12);
    }

    /// <summary>
    /// RepDistiller's FT distance (<c>FactorTransfer.factor_loss</c>, p1 = 2): <c>mean |a(x) − a(y)|^p</c> over B·H·W with
    /// <c>a = </c><see cref="SpatialFactor"/>. The caller brings the maps to one spatial size first (RepDistiller pools the
    /// larger one).
    /// </summary>
    /// <param name="x">A factor <c>[B, C', H, W]</c>.</param>
    /// <param name="y">A factor of the same shape.</param>
    /// <param name="p">1 (RepDistiller's default p2) or 2.</param>
    /// <exception cref="ArgumentException">Ranks, shapes, dtypes or devices differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not 1 or 2.</exception>
    public static Tensor SpatialDistance(Tensor x, Tensor y, int p)
    {
        CheckP(p);
        CheckPair(x, y);
        return Power(SpatialFactor(x) - SpatialFactor(y), p).mean();
    }

    /// <summary>
    /// The absolute cosine similarity (official <c>CosLoss(negative=True)</c>): <c>(1/B) Σ_i |⟨φ(x_i), φ(y_i)⟩|</c>, in [0, 1].
    /// </summary>
    /// <param name="x">A factor <c>[B, C', H, W]</c>.</param>
    /// <param name="y">A factor of the same shape.</param>
    /// <exception cref="ArgumentException">Ranks, shapes, dtypes or devices differ.</exception>
    public static Tensor AbsoluteCosine(Tensor x, Tensor y)
    {
        CheckPair(x, y);
        return (Normalize(x) * Normalize(y)).sum(1).abs().mean();
    }

    private static Tensor Power(Tensor difference, int p) => p == 1 ? difference.abs() : difference.pow(2);

    private static void CheckP(int p)
    {
        if (p is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "p must be 1 (L1) or 2 (squared L2).");
        }
    }

    private static void CheckPair(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.dim() != 4 || !x.shape.SequenceEqual(y.shape) || x.numel() == 0)
        {
            throw new ArgumentException(
                $"Factors must be two non-empty [batch, channels, height, width] maps of one shape; got {Guard.Shape(x)} and {Guard.Shape(y)}.", nameof(y));
        }

        if (!is_floating_point(x) || x.dtype != y.dtype)
        {
            throw new ArgumentException($"Factors must share one floating-point dtype; got {x.dtype} and {y.dtype}.", nameof(y));
        }

        Guard.SameDevice(y, nameof(y), x, nameof(x));
    }
}
