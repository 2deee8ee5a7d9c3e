using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Attention transfer (Zagoruyko and Komodakis, ICLR 2017): compares the spatial attention maps of two feature maps, so the
/// channel counts may differ. <c>a(F) = normalize_L2(mean_c F², flattened per sample)</c>; the distance is
/// <c>mean((a(F_s) − a(F_t))²)</c> over batch and positions (the RepDistiller form, usually weighted by about 1000).
/// </summary>
public static class AttentionTransfer
{
    /// <summary>The per-sample L2-normalised spatial attention map <c>[batch, H·W]</c> of a feature map.</summary>
    /// <param name="features">Feature map [batch, channels, H, W].</param>
    /// <param name="what">The argument's description for errors.</param>
    public static Tensor Map(Tensor features, string what = "features")
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 4)
        {
            throw new ArgumentException($"{what} must be a feature map [batch, channels, H, W]; got {Guard.Shape(features)}.", nameof(features));
        }

        var energy = features.pow(2).mean(new long[] { 1 }).flatten(1);
        return nn.functional.normalize(energy, p: 2.0, dim: 1);
    }

    /// <summary>The attention-transfer distance between two feature maps of the same batch and spatial size.</summary>
    /// <param name="student">The learner's feature map [batch, c1, H, W].</param>
    /// <param name="target">The target feature map [batch, c2, H, W] (used as given: detach it yourself if needed).</param>
    /// <exception cref="ArgumentException">Ranks, batch or spatial sizes, or devices differ.</exception>
    public static Tensor Value(Tensor student, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(student);
        ArgumentNullException.ThrowIfNull(target);
        var s = Map(student, "student features");
        var t = Map(target, "target features");
        if (student.shape[0] != target.shape[0] || student.shape[2] != target.shape[2] || student.shape[3] != target.shape[3])
        {
            throw new ArgumentException(
                $"Attention transfer needs the same batch and spatial size; got student {Guard.Shape(student)} and target {Guard.Shape(target)}.",
                nameof(target));
        }

        Guard.SameDevice(student, "student features", target, "target features");
        return (s - t).pow(2).mean();
    }
}
