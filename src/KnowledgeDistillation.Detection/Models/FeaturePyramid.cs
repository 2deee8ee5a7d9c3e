using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Detection.Models;

/// <summary>
/// The feature pyramid of Lin et al. (2017) as FCOS uses it: 1x1 laterals on C3-C5, a top-down path (nearest upsampling +
/// sum), 3x3 output convolutions (P3-P5), and P6, P7 from stride-2 3x3 convolutions on P5 and ReLU(P6). Convolutions are
/// Kaiming-uniform (a = 1) with zero bias, as in detectron2's FPN.
/// </summary>
public sealed class FeaturePyramid : Module<(Tensor C3, Tensor C4, Tensor C5), Tensor[]>
{
    private readonly Conv2d lateral3;
    private readonly Conv2d lateral4;
    private readonly Conv2d lateral5;
    private readonly Conv2d output3;
    private readonly Conv2d output4;
    private readonly Conv2d output5;
    private readonly Conv2d p6;
    private readonly Conv2d p7;

    /// <summary>Creates the pyramid.</summary>
    /// <param name="inChannels">Channels of C3, C4, C5.</param>
    /// <param name="channels">Output channels of every level.</param>
    public FeaturePyramid((int C3, int C4, int C5) inChannels, int channels)
        : base(nameof(FeaturePyramid))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        lateral3 = Init(Conv2d(inChannels.C3, channels, 1));
        lateral4 = Init(Conv2d(inChannels.C4, channels, 1));
        lateral5 = Init(Conv2d(inChannels.C5, channels, 1));
        output3 = Init(Conv2d(channels, channels, 3, padding: 1));
        output4 = Init(Conv2d(channels, channels, 3, padding: 1));
        output5 = Init(Conv2d(channels, channels, 3, padding: 1));
        p6 = Init(Conv2d(channels, channels, 3, stride: 2, padding: 1));
        p7 = Init(Conv2d(channels, channels, 3, stride: 2, padding: 1));
        RegisterComponents();
    }

    /// <summary>Returns P3, P4, P5, P6, P7.</summary>
    /// <param name="input">C3, C4, C5.</param>
    public override Tensor[] forward((Tensor C3, Tensor C4, Tensor C5) input)
    {
        using var scope = NewDisposeScope();
        var l5 = lateral5.call(input.C5);
        var l4 = lateral4.call(input.C4) + functional.interpolate(l5, size: new[] { input.C4.shape[2], input.C4.shape[3] }, mode: InterpolationMode.Nearest);
        var l3 = lateral3.call(input.C3) + functional.interpolate(l4, size: new[] { input.C3.shape[2], input.C3.shape[3] }, mode: InterpolationMode.Nearest);
        var o5 = output5.call(l5);
        var o6 = p6.call(o5);
        var levels = new[] { output3.call(l3), output4.call(l4), o5, o6, p7.call(functional.relu(o6)) };
        scope.MoveToOuter(levels);
        return levels;
    }

    private static Conv2d Init(Conv2d conv)
    {
        init.kaiming_uniform_(conv.weight, a: 1);
        init.zeros_(conv.bias!);
        return conv;
    }
}
