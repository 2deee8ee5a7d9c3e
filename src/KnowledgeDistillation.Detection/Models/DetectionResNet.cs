using KnowledgeDistillation.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Detection.Models;

/// <summary>
/// A ResNet-family backbone of basic blocks (He et al. 2016; the core's <see cref="BasicBlock"/>): a stride-4 stem
/// (3x3 conv stride 2, BN, ReLU, 3x3 max-pool stride 2) and four stages at strides 4, 8, 16, 32. Returns C3, C4, C5
/// (the outputs at strides 8, 16, 32), as an FPN takes them.
/// </summary>
public sealed class DetectionResNet : Module<Tensor, (Tensor C3, Tensor C4, Tensor C5)>
{
    private readonly Sequential stem;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    /// <summary>Creates the backbone.</summary>
    /// <param name="widths">Channels of the four stages.</param>
    /// <param name="blocks">Basic blocks per stage.</param>
    public DetectionResNet(IReadOnlyList<int> widths, IReadOnlyList<int> blocks)
        : base(nameof(DetectionResNet))
    {
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(blocks);
        if (widths.Count != 4 || blocks.Count != 4)
        {
            throw new ArgumentException("A detection ResNet has 4 stages: give 4 widths and 4 block counts.", nameof(widths));
        }

        var conv = Conv2d(3, widths[0], 3, stride: 2, padding: 1, bias: false);
        init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
        stem = Sequential(("conv", conv), ("bn", BatchNorm2d(widths[0])), ("relu", ReLU()), ("pool", MaxPool2d(3, 2, 1)));
        layer1 = Stage(widths[0], widths[0], blocks[0], 1);
        layer2 = Stage(widths[0], widths[1], blocks[1], 2);
        layer3 = Stage(widths[1], widths[2], blocks[2], 2);
        layer4 = Stage(widths[2], widths[3], blocks[3], 2);
        OutChannels = (widths[1], widths[2], widths[3]);
        RegisterComponents();
    }

    /// <summary>Channels of C3, C4, C5.</summary>
    public (int C3, int C4, int C5) OutChannels { get; }

    /// <inheritdoc />
    public override (Tensor C3, Tensor C4, Tensor C5) forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        using var s = stem.call(input);
        using var c2 = layer1.call(s);
        var c3 = layer2.call(c2);
        var c4 = layer3.call(c3);
        var c5 = layer4.call(c4);
        scope.MoveToOuter(c3, c4, c5);
        return (c3, c4, c5);
    }

    private static Sequential Stage(int inChannels, int outChannels, int count, int stride)
    {
        var modules = new List<(string, Module<Tensor, Tensor>)>();
        for (var i = 0; i < count; i++)
        {
            modules.Add((i.ToString(System.Globalization.CultureInfo.InvariantCulture), new BasicBlock(i == 0 ? inChannels : outChannels, outChannels, i == 0 ? stride : 1)));
        }

        return Sequential(modules);
    }
}
