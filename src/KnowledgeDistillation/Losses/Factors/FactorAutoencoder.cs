using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// IE-KD's teacher autoencoder (Huang et al., CVPR 2021; official <c>auto_encoder</c>): an <c>encoder</c>
/// <see cref="FactorCoder"/> (in → factor channels) that extracts compact "factors" from a teacher's feature map and a
/// <c>decoder</c> <see cref="FactorCoder"/> (factor → in channels) that reconstructs the map. Trained with
/// <see cref="FactorReconstructionLoss"/>, then frozen and used by <see cref="InheritanceExplorationLoss"/>. It is also FT's
/// paraphraser (Kim et al., NeurIPS 2018; IE-KD's autoencoder derives from it), used frozen by <see cref="FactorTransferLoss"/>.
/// <see cref="forward"/> returns the reconstruction; state-dict names match the official module
/// (<c>encoder.layers.1.weight</c>, …).
/// </summary>
public sealed class FactorAutoencoder : nn.Module<Tensor, Tensor>
{
    private readonly FactorCoder encoder;
    private readonly FactorCoder decoder;

    /// <summary>Creates the autoencoder with freshly initialised weights (TorchSharp's global random generator).</summary>
    /// <param name="inChannels">Channels C of the feature map to encode (64 for the last stage of a CIFAR ResNet), &gt;= 1.</param>
    /// <param name="factorChannels">Channels C' of the factor (the official configurations use 32), &gt;= 1.</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is below 1.</exception>
    public FactorAutoencoder(int inChannels, int factorChannels = 32, string name = "factor_autoencoder")
        : base(name)
    {
        InChannels = inChannels >= 1 ? inChannels : throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "'inChannels' must be >= 1.");
        FactorChannels = factorChannels >= 1 ? factorChannels : throw new ArgumentOutOfRangeException(nameof(factorChannels), factorChannels, "'factorChannels' must be >= 1.");
        encoder = new FactorCoder(inChannels, factorChannels, "encoder");
        decoder = new FactorCoder(factorChannels, inChannels, "decoder");
        RegisterComponents();
    }

    /// <summary>Channels C of the feature map.</summary>
    public int InChannels { get; }

    /// <summary>Channels C' of the factor.</summary>
    public int FactorChannels { get; }

    /// <summary>The encoder (C → C').</summary>
    public FactorCoder Encoder => encoder;

    /// <summary>The decoder (C' → C).</summary>
    public FactorCoder Decoder => decoder;

    /// <summary>The factor of a feature map: <c>[B, C, H, W] → [B, C', H, W]</c>.</summary>
    /// <param name="feature">A feature map with <see cref="InChannels"/> channels.</param>
    /// <exception cref="ArgumentException">The map is not a floating-point <c>[B, C, H, W]</c> tensor.</exception>
    public Tensor Encode(Tensor feature)
    {
        FactorCoder.CheckMap(feature, InChannels, nameof(feature));
        return encoder.call(feature);
    }

    /// <summary>The reconstruction of a factor: <c>[B, C', H, W] → [B, C, H, W]</c>.</summary>
    /// <param name="factor">A factor with <see cref="FactorChannels"/> channels.</param>
    /// <exception cref="ArgumentException">The factor is not a floating-point <c>[B, C', H, W]</c> tensor.</exception>
    public Tensor Decode(Tensor factor)
    {
        FactorCoder.CheckMap(factor, FactorChannels, nameof(factor));
        return decoder.call(factor);
    }

    /// <summary>The reconstruction <c>Decode(Encode(feature))</c>.</summary>
    /// <param name="feature">A feature map with <see cref="InChannels"/> channels.</param>
    public override Tensor forward(Tensor feature) => Decode(Encode(feature));
}
