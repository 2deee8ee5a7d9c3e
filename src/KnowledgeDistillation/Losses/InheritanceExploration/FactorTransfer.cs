using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The factor distances of Factor Transfer (Kim et al., NeurIPS 2018) as IE-KD uses them (official
/// <c>loss/factor_transfer.py</c>): every sample's factor is flattened and L2-normalised, <c>φ(x) = vec(x) / max(‖vec(x)‖₂, 1e-12)</c>.
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
