using KnowledgeDistillation.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The three-convolution coder of IE-KD (Huang et al., CVPR 2021; official <c>model/auto_encoder.py</c>, <c>Coder</c>):
/// <c>LeakyReLU(0.1), conv3x3(in→in), BN, LeakyReLU, conv3x3(in→out), BN, LeakyReLU, conv3x3(out→out), BN, LeakyReLU</c>,
/// convolutions bias-free with stride 1 and padding 1 (the spatial size is kept), weights He-normal with fan-out
/// (<c>N(0, √(2 / (9 · out)))</c>), BN weight 1 and bias 0. The layers are <c>layers.0</c> … <c>layers.9</c>, so the
/// state-dict names match the official PyTorch module. Used as encoder and decoder of <see cref="FactorAutoencoder"/>
/// and as the student-side encoders of <see cref="InheritanceExplorationLoss"/> and FT's translator
/// (<see cref="FactorTransferLoss"/>).
/// </summary>
public sealed class FactorCoder : Module<Tensor, Tensor>
{
    private const double NegativeSlope = 0.1;

    private readonly Sequential layers;

    /// <summary>Creates the coder with freshly initialised weights (TorchSharp's global random generator).</summary>
    /// <param name="inChannels">Channels of the input map, &gt;= 1.</param>
    /// <param name="outChannels">Channels of the output map, &gt;= 1.</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A channel count is below 1.</exception>
    public FactorCoder(int inChannels, int outChannels, string name = "coder")
        : base(name)
    {
        InChannels = inChannels >= 1 ? inChannels : throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "'inChannels' must be >= 1.");
        OutChannels = outChannels >= 1 ? outChannels : throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, "'outChannels' must be >= 1.");
        layers = Sequential(
            LeakyReLU(NegativeSlope),
            Convolution(inChannels, inChannels),
            BatchNorm2d(inChannels),
            LeakyReLU(NegativeSlope),
            Convolution(inChannels, outChannels),
            BatchNorm2d(outChannels),
            LeakyReLU(NegativeSlope),
            Convolution(outChannels, outChannels),
            BatchNorm2d(outChannels),
            LeakyReLU(NegativeSlope));
        RegisterComponents();
    }

    /// <summary>Channels of the input map.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the output map.</summary>
    public int OutChannels { get; }

    /// <summary>Maps <c>[B, InChannels, H, W]</c> to <c>[B, OutChannels, H, W]</c>.</summary>
    /// <param name="input">A feature map with <see cref="InChannels"/> channels.</param>
    /// <exception cref="ArgumentException">The input is not a floating-point <c>[B, InChannels, H, W]</c> map.</exception>
    public override Tensor forward(Tensor input)
    {
        CheckMap(input, InChannels, nameof(input));
        return layers.call(input);
    }

    /// <summary>Throws unless <paramref name="map"/> is a floating-point <c>[B, channels, H, W]</c> tensor.</summary>
    internal static void CheckMap(Tensor map, long channels, string what)
    {
        ArgumentNullException.ThrowIfNull(map, what);
        if (map.dim() != 4 || map.shape[1] != channels)
        {
            throw new ArgumentException($"{what} must be a feature map [batch, {channels}, height, width]; got {Guard.Shape(map)}.", what);
        }

        if (!is_floating_point(map))
        {
            throw new ArgumentException($"{what} must be floating point; got {map.dtype}.", what);
        }
    }

    /// <summary>Throws unless <paramref name="module"/>'s parameters are on <paramref name="like"/>'s device with its dtype.</summary>
    internal static void CheckModule(nn.Module module, Tensor like, string what)
    {
        var parameter = module.parameters().FirstOrDefault();
        if (parameter is null)
        {
            return;
        }

        if (parameter.device_type != like.device_type || parameter.device_index != like.device_index || parameter.dtype != like.dtype)
        {
            throw new InvalidOperationException(
                $"The {what} holds {parameter.dtype} parameters on {parameter.device}, but the feature map is {like.dtype} on {like.device}. " +
                "Move it with module.to(device, dtype) (the engine does this for modules a stage's loss trains, e.g. through a FactorReconstructionLoss stage in the same Distiller).");
        }
    }

    private static Conv2d Convolution(int inChannels, int outChannels)
    {
        var conv = Conv2d(inChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
        using (no_grad())
        {
            init.normal_(conv.weight, 0.0, Math.Sqrt(2.0 / (3 * 3 * outChannels)));
        }

        return conv;
    }
}
