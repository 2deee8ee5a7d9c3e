using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Detection.Models;

/// <summary>
/// A one-stage FCOS detector: <see cref="DetectionResNet"/> → <see cref="FeaturePyramid"/> → <see cref="FcosHead"/>.
/// Its output carries the FPN levels as features <c>p3</c>..<c>p7</c> (<c>[B, D, h, w]</c>, what feature distillation
/// reads) and the head's outputs as features <see cref="ClassLogits"/> <c>[B, S, C]</c>, <see cref="BoxDistances"/>
/// <c>[B, S, 4]</c> and <see cref="Centerness"/> <c>[B, S]</c>; it has no classification logits. Wrap it with
/// <c>Student.FromModule</c> / <c>Teacher.FromModule</c>.
/// </summary>
public sealed class FcosDetector : Module<Tensor, ModelOutput>
{
    /// <summary>The feature holding the class logits.</summary>
    public const string ClassLogits = "cls";

    /// <summary>The feature holding the box distances (left, top, right, bottom) in pixels.</summary>
    public const string BoxDistances = "box";

    /// <summary>The feature holding the centerness logits.</summary>
    public const string Centerness = "ctr";

    private readonly DetectionResNet backbone;
    private readonly FeaturePyramid fpn;
    private readonly FcosHead head;

    /// <summary>Creates the detector (weights drawn from TorchSharp's global generator).</summary>
    /// <param name="options">The architecture.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public FcosDetector(FcosDetectorOptions options)
        : base(nameof(FcosDetector))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        backbone = new DetectionResNet(options.Widths, options.Blocks);
        fpn = new FeaturePyramid(backbone.OutChannels, options.FpnChannels);
        head = new FcosHead(options);
        RegisterComponents();
    }

    /// <summary>The architecture.</summary>
    public FcosDetectorOptions Options { get; }

    /// <summary>The number of parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <inheritdoc />
    public override ModelOutput forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != 3 || input.shape[2] < 32 || input.shape[3] < 32)
        {
            throw new ArgumentException($"The detector takes images [B, 3, H, W] with H, W >= 32; got {Guard.Shape(input)}.", nameof(input));
        }

        using var scope = NewDisposeScope();
        var levels = fpn.call(backbone.call(input));
        var (cls, box, ctr) = head.call(levels);
        var features = new Dictionary<string, Tensor> { [ClassLogits] = cls, [BoxDistances] = box, [Centerness] = ctr };
        for (var l = 0; l < levels.Length; l++)
        {
            features[FcosDetectorOptions.Levels[l]] = levels[l];
        }

        scope.MoveToOuter(features.Values);
        return new ModelOutput(null, features);
    }
}
