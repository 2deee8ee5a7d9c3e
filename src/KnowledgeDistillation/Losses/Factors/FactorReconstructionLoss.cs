using KnowledgeDistillation.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The first stage of IE-KD (Huang et al., CVPR 2021; official <c>RecLoss</c>, norm 1) and of FT (Kim et al., NeurIPS
/// 2018, the paraphraser; RepDistiller trains it with <c>nn.MSELoss</c>, norm 2): trains a <see cref="FactorAutoencoder"/>
/// to reconstruct a participant's (usually the frozen teacher's) feature map, <c>mean |F − Dec(Enc(F))|^norm</c> over all
/// elements (norm 1: L1, norm 2: mean squared error). The feature is detached, so only the autoencoder learns; it is this loss's trainable module. Use it in a
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
    /// <param name="norm">1 (L1, IE-KD; the default) or 2 (mean squared error, RepDistiller's FT paraphraser).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="norm"/> is not 1 or 2.</exception>
    public FactorReconstructionLoss(FactorAutoencoder autoencoder, string feature, string participant = "teacher", string name = "reconstruct", int norm = 1)
        : base(name)
    {
        Norm = norm is 1 or 2 ? norm : throw new ArgumentOutOfRangeException(nameof(norm), norm, "norm must be 1 (L1) or 2 (mean squared error).");
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

    /// <summary>1 (L1) or 2 (mean squared error).</summary>
    public int Norm { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <summary>
    /// <c>(1 / numel) Σ |x − y|</c>, the L1 mean over all elements. Gradient w.r.t. <paramref name="reconstruction"/>:
    /// <c>sign(y − x) / numel</c>.
    /// </summary>
    /// <param name="feature">The target map x (used as given: detach it yourself if needed).</param>
    /// <param name="reconstruction">The reconstruction y, same shape as x.</param>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices differ, or the tensors are empty.</exception>
    public static Tensor Value(Tensor feature, Tensor reconstruction) => Value(feature, reconstruction, 1);

    /// <summary><c>(1 / numel) Σ |x − y|^norm</c>: the L1 mean (norm 1) or the mean squared error (norm 2).</summary>
    /// <param name="feature">The target map x (used as given: detach it yourself if needed).</param>
    /// <param name="reconstruction">The reconstruction y, same shape as x.</param>
    /// <param name="norm">1 or 2.</param>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices differ, or the tensors are empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="norm"/> is not 1 or 2.</exception>
    public static Tensor Value(Tensor feature, Tensor reconstruction, int norm)
    {
        if (norm is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(norm), norm, "norm must be 1 (L1) or 2 (mean squared error).");
        }

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
        var difference = feature - reconstruction;
        return (norm == 1 ? difference.abs() : difference.pow(2)).mean();
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
        return new LossResult(Name, Value(feature, Autoencoder.call(feature), Norm));
    }
}

public static partial class Loss
{
    /// <summary>
    /// IE-KD's stage-1 term (Huang et al. 2021, "Revisiting Knowledge Distillation: An Inheritance and Exploration
    /// Framework", CVPR, arXiv 2107.00181), also FT's paraphraser stage (Kim et al. 2018, with <paramref name="norm"/> 2):
    /// an autoencoder learns to reconstruct a participant's feature. Reports "NAME".
    /// </summary>
    /// <param name="autoencoder">The autoencoder to train.</param>
    /// <param name="feature">The feature name of the map to reconstruct.</param>
    /// <param name="participant">The participant whose feature is reconstructed.</param>
    /// <param name="name">Reporting name.</param>
    /// <param name="norm">1 (L1, IE-KD) or 2 (mean squared error, FT's paraphraser in RepDistiller).</param>
    public static FactorReconstructionLoss FactorReconstruction(FactorAutoencoder autoencoder, string feature, string participant = "teacher", string name = "reconstruct", int norm = 1) =>
        new(autoencoder, feature, participant, name, norm);
}
