using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Detection.Models;

/// <summary>
/// The FCOS head (Tian et al., ICCV 2019; AdelaiDet's layout): shared over levels, a classification tower and a box tower
/// (3x3 conv + GroupNorm + ReLU each), class logits, box distances and centerness (on the box tower). Box distances are
/// <c>exp(s_l · t) · stride_l</c> (or <c>relu(s_l · t) · stride_l</c>, see <see cref="FcosBoxOutput"/>) with one learned scale
/// per level, in pixels.
/// Convolutions start at N(0, 0.01) with zero bias, the class bias at <c>−log((1 − π)/π)</c>, and GroupNorm at weight 1,
/// bias 0, set explicitly (TorchSharp 0.107's GroupNorm may leave its affine parameters uninitialised).
/// </summary>
public sealed class FcosHead : Module<Tensor[], (Tensor Cls, Tensor Box, Tensor Ctr)>
{
    private readonly Sequential clsTower;
    private readonly Sequential boxTower;
    private readonly Conv2d clsLogits;
    private readonly Conv2d boxPred;
    private readonly Conv2d centerness;
    private readonly Parameter scales;
    private readonly int _classes;
    private readonly FcosBoxOutput _boxOutput;

    /// <summary>The largest exponent of the exponential box output (e^12 strides: far beyond any image), so a diverging step gives a large finite box, not infinity.</summary>
    public const double MaxBoxExponent = 12;

    /// <summary>Creates the head.</summary>
    /// <param name="options">The detector's architecture.</param>
    public FcosHead(FcosDetectorOptions options)
        : base(nameof(FcosHead))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _classes = options.Classes;
        _boxOutput = options.BoxOutput;
        clsTower = Tower(options);
        boxTower = Tower(options);
        clsLogits = Small(Conv2d(options.FpnChannels, options.Classes, 3, padding: 1));
        boxPred = Small(Conv2d(options.FpnChannels, 4, 3, padding: 1));
        centerness = Small(Conv2d(options.FpnChannels, 1, 3, padding: 1));
        using (no_grad())
        {
            clsLogits.bias!.fill_(-Math.Log((1 - options.PriorProbability) / options.PriorProbability));
        }

        scales = Parameter(ones(FcosDetectorOptions.Strides.Count));
        RegisterComponents();
    }

    /// <summary>Class logits <c>[B, S, C]</c>, box distances (l, t, r, b) in pixels <c>[B, S, 4]</c>, centerness logits <c>[B, S]</c>; S = all positions of P3..P7, level by level, row-major.</summary>
    /// <param name="levels">P3..P7.</param>
    public override (Tensor Cls, Tensor Box, Tensor Ctr) forward(Tensor[] levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        using var scope = NewDisposeScope();
        var cls = new List<Tensor>();
        var box = new List<Tensor>();
        var ctr = new List<Tensor>();
        for (var l = 0; l < levels.Length; l++)
        {
            var b = levels[l].shape[0];
            var c = clsTower.call(levels[l]);
            var t = boxTower.call(levels[l]);
            cls.Add(clsLogits.call(c).permute(0, 2, 3, 1).reshape(b, -1, _classes));
            box.Add((Distances(boxPred.call(t) * scales[l]) * FcosDetectorOptions.Strides[l]).permute(0, 2, 3, 1).reshape(b, -1, 4));
            ctr.Add(centerness.call(t).reshape(b, -1));
        }

        var result = (cat(cls, 1), cat(box, 1), cat(ctr, 1));
        scope.MoveToOuter(result.Item1, result.Item2, result.Item3);
        return result;
    }

    private Tensor Distances(Tensor scaled) => _boxOutput == FcosBoxOutput.Exponential
        ? scaled.clamp_max(MaxBoxExponent).exp()
        : functional.relu(scaled);

    private static Sequential Tower(FcosDetectorOptions options)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        for (var i = 0; i < options.HeadConvs; i++)
        {
            var gn = GroupNorm(options.GroupNormGroups, options.FpnChannels);
            using (no_grad())
            {
                gn.weight!.fill_(1);
                gn.bias!.zero_();
            }

            layers.Add(($"{3 * i}", Small(Conv2d(options.FpnChannels, options.FpnChannels, 3, padding: 1))));
            layers.Add(($"{(3 * i) + 1}", gn));
            layers.Add(($"{(3 * i) + 2}", ReLU()));
        }

        return Sequential(layers);
    }

    private static Conv2d Small(Conv2d conv)
    {
        init.normal_(conv.weight, 0, 0.01);
        init.zeros_(conv.bias!);
        return conv;
    }
}
