using KnowledgeDistillation.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// IE-KD stage 1 (Huang et al., CVPR 2021; official <c>RecLoss</c>, norm 1): trains a <see cref="FactorAutoencoder"/>
/// to reconstruct a participant's (usually the frozen teacher's) feature map, <c>mean |F − Dec(Enc(F))|</c> over all
/// elements. The feature is detached, so only the autoencoder learns; it is this loss's trainable module. Use it in a
/// stage with <c>Trainable = []</c> (the official code trains it for 30 epochs at lr 0.1 before distilling).
/// </summary>
public sealed class FactorReconstructionLoss : DistillationLoss
{
    private readonly nn.Module[] _modules;

    /// <summary>Creates the loss.</summary>
    /// <param name="autoencoder">The autoencoder to train (owned by the caller; its <see cref="FactorAutoencoder.InChannels"/> must match the feature).</param>
    /// <param name="feature">The feature name (module path for hook capture) of the map to reconstruct.</param>
    /// <param name="participant">The participant whose feature is reconstructed (default "teacher").</param>
    /// <param name="name">Reporting name (default "reconstruct").</param>
    public FactorReconstructionLoss(FactorAutoencoder autoencoder, string feature, string participant = "teacher", string name = "reconstruct")
        : base(name)
    {
        Autoencoder = autoencoder ?? throw new ArgumentNullException(nameof(autoencoder));
        Feature = Guard.Name(feature, nameof(feature));
        Participant = Guard.Name(participant, nameof(participant));
        _modules = new nn.Module[] { autoencoder };
    }

    /// <summary>The autoencoder being trained.</summary>
    public FactorAutoencoder Autoencoder { get; }

    /// <summary>The feature name.</summary>
    public string Feature { get; }

    /// <summary>The participant whose feature is reconstructed.</summary>
    public string Participant { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <summary>
    /// <c>(1 / numel) Σ |x − y|</c>, the L1 mean over all elements. Gradient w.r.t. <paramref name="reconstruction"/>:
    /// <c>sign(y − x) / numel</c>.
    /// </summary>
    /// <param name="feature">The target map x (used as given: detach it yourself if needed).</param>
    /// <param name="reconstruction">The reconstruction y, same shape as x.</param>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices differ, or the tensors are empty.</exception>
    public static Tensor Value(Tensor feature, Tensor reconstruction)
    {
        ArgumentNullException.ThrowIfNull(feature);
        ArgumentNullException.ThrowIfNull(reconstruction);
        if (!feature.shape.SequenceEqual(reconstruction.shape) || feature.numel() == 0)
        {
            throw new ArgumentException(
                $"The reconstruction must have the feature's (non-empty) shape {Guard.Shape(feature)}; got {Guard.Shape(reconstruction)}.", nameof(reconstruction));
        }

        if (!is_floating_point(feature) || feature.dtype != reconstruction.dtype)
        {
            throw new ArgumentException($"feature and reconstruction must share one floating-point dtype; got {feature.dtype} and {reconstruction.dtype}.", nameof(reconstruction));
        }

        Guard.SameDevice(reconstruction, nameof(reconstruction), feature, nameof(feature));
        return (feature - reconstruction).abs().mean();
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Feature(Participant, Feature);

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var feature = context.Output(Participant).Feature(Feature, Participant).detach();
        FactorCoder.CheckMap(feature, Autoencoder.InChannels, $"feature '{Feature}' of '{Participant}'");
        FactorCoder.CheckModule(Autoencoder, feature, "autoencoder");
        return new LossResult(Name, Value(feature, Autoencoder.call(feature)));
    }
}

public static partial class Loss
{
    /// <summary>
    /// IE-KD's stage-1 term (Huang et al. 2021, "Revisiting Knowledge Distillation: An Inheritance and Exploration
    /// Framework", CVPR, arXiv 2107.00181): an autoencoder learns to reconstruct a participant's feature. Reports "NAME".
    /// </summary>
    /// <param name="autoencoder">The autoencoder to train.</param>
    /// <param name="feature">The feature name of the map to reconstruct.</param>
    /// <param name="participant">The participant whose feature is reconstructed.</param>
    /// <param name="name">Reporting name.</param>
    public static FactorReconstructionLoss FactorReconstruction(FactorAutoencoder autoencoder, string feature, string participant = "teacher", string name = "reconstruct") =>
        new(autoencoder, feature, participant, name);
}
