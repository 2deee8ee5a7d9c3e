using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>
/// The sigmoid focal loss of Lin et al. (2017), summed over all elements:
/// <c>Σ α_t (1 − p_t)^γ · BCE(x, y)</c>, p = σ(x), p_t = p·y + (1 − p)(1 − y), α_t = α·y + (1 − α)(1 − y).
/// Written here rather than taken from TorchVision 0.107, whose <c>sigmoid_focal_loss</c> reduction was measured wrong.
/// </summary>
public static class SigmoidFocalLoss
{
    /// <summary>The summed loss.</summary>
    /// <param name="logits">Logits, any shape.</param>
    /// <param name="targets">Targets in [0, 1], the same shape.</param>
    /// <param name="alpha">Positive-class weight in [0, 1] (0.25), or a negative value for none.</param>
    /// <param name="gamma">Focusing exponent &gt;= 0 (2).</param>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException">γ &lt; 0 or α &gt; 1.</exception>
    public static Tensor Sum(Tensor logits, Tensor targets, double alpha = 0.25, double gamma = 2.0)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (!logits.shape.SequenceEqual(targets.shape))
        {
            throw new ArgumentException($"Focal loss targets must match the logits {Guard.Shape(logits)}; got {Guard.Shape(targets)}.", nameof(targets));
        }

        if (!(gamma >= 0) || alpha > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), $"Need gamma >= 0 and alpha <= 1; got gamma {gamma}, alpha {alpha}.");
        }

        using var scope = NewDisposeScope();
        var p = logits.sigmoid();
        var ce = nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction: nn.Reduction.None);
        var pt = (p * targets) + ((1 - p) * (1 - targets));
        var loss = ce * (1 - pt).pow(gamma);
        if (alpha >= 0)
        {
            loss = loss * ((alpha * targets) + ((1 - alpha) * (1 - targets)));
        }

        return loss.sum().MoveToOuterDisposeScope();
    }
}
