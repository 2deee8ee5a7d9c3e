using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Models;

/// <summary>
/// The basic residual block of He et al. (2016), "Deep Residual Learning for Image Recognition":
/// <c>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))</c> with 3x3 convolutions (the first one strided).
/// The shortcut is the identity, or a 1x1 convolution + BatchNorm projection (<c>downsample</c>) when the stride
/// or the channel count changes. Convolutions have no bias and are He-initialised (normal, fan-out, ReLU gain);
/// BatchNorm starts at weight 1, bias 0. Submodules: <c>conv1</c>, <c>bn1</c>, <c>conv2</c>, <c>bn2</c> and,
/// for a projection, <c>downsample</c> (<c>downsample.0</c> the convolution, <c>downsample.1</c> the BatchNorm).
/// </summary>
public sealed class BasicBlock : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Channels of the block's input (&gt;= 1).</param>
    /// <param name="outChannels">Channels of the block's output (&gt;= 1).</param>
    /// <param name="stride">Stride of the first convolution and of the projection (1 or 2).</param>
    /// <exception cref="ArgumentOutOfRangeException">A channel count below 1 or a stride other than 1 or 2.</exception>
    public BasicBlock(int inChannels, int outChannels, int stride = 1)
        : base(nameof(BasicBlock))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        if (stride is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(stride), stride, "'stride' must be 1 or 2.");
        }

        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
        conv1 = HeConv(inChannels, outChannels, 3, stride);
        bn1 = BatchNorm2d(outChannels);
        conv2 = HeConv(outChannels, outChannels, 3, 1);
        bn2 = BatchNorm2d(outChannels);
        if (stride != 1 || inChannels != outChannels)
        {
            downsample = Sequential(("0", HeConv(inChannels, outChannels, 1, stride)), ("1", BatchNorm2d(outChannels)));
        }

        RegisterComponents();
    }

    /// <summary>Channels of the block's input.</summary>
    public int InChannels { get; }

    /// <summary>Channels of the block's output.</summary>
    public int OutChannels { get; }

    /// <summary>Stride of the block (2 halves the height and width, rounding up).</summary>
    public int Stride { get; }

    /// <summary>Whether the shortcut is a 1x1 convolution + BatchNorm projection rather than the identity.</summary>
    public bool HasProjection => downsample is not null;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != InChannels)
        {
            throw new ArgumentException(
                $"BasicBlock expects [batch, {InChannels}, height, width]; got {Guard.Shape(input)}.", nameof(input));
        }

        // Children through call(x), so forward hooks on them fire; intermediate handles are released early
        // (hooks keep their own handles), as TorchSharp's Sequential does.
        using var a = conv1.call(input);
        using var b = bn1.call(a);
        using var c = functional.relu(b);
        using var d = conv2.call(c);
        using var e = bn2.call(d);
        using var shortcut = downsample is null ? input.alias() : downsample.call(input);
        using var sum = e + shortcut;
        return functional.relu(sum);
    }

    /// <summary>A bias-free convolution with "same" padding for odd kernels, He-initialised (normal, fan-out, ReLU gain).</summary>
    internal static Conv2d HeConv(int inChannels, int outChannels, int kernelSize, int stride)
    {
        var conv = Conv2d(inChannels, outChannels, kernelSize, stride: stride, padding: kernelSize / 2, bias: false);
        init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
        return conv;
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var x = graph.Relu(graph.Emit(bn1, graph.Emit(conv1, input, nameof(conv1)), nameof(bn1)));
        x = graph.Emit(bn2, graph.Emit(conv2, x, nameof(conv2)), nameof(bn2));
        var shortcut = downsample is null ? input : graph.Emit(downsample, input, nameof(downsample));
        return graph.Relu(graph.Add(x, shortcut));
    }
}
