using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Models;

/// <summary>
/// The CIFAR ResNet of He et al. (2016), "Deep Residual Learning for Image Recognition", in the form of the
/// standard KD benchmarks (RepDistiller's <c>resnet8x4</c> / <c>resnet32x4</c>): a 3x3 convolution stem with
/// BatchNorm and ReLU, three stages of <c>n = (depth - 2) / 6</c> <see cref="BasicBlock"/>s with strides 1, 2, 2
/// (a 1x1 projection shortcut where the shape changes), global average pooling and a linear classifier.
/// Any input size works (28x28 and 32x32 included); the stages run at full, half and quarter resolution.
/// Submodules are named for feature capture: <c>stem</c>, <c>stage1</c>, <c>stage2</c>, <c>stage3</c>
/// (blocks <c>stage{s}.{i}</c>), <c>pool</c> (the flattened pooled vector) and <c>fc</c> (the logits).
/// </summary>
public sealed class ResNetCifar : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Sequential stem;
    private readonly Sequential stage1;
    private readonly Sequential stage2;
    private readonly Sequential stage3;
    private readonly Sequential pool;
    private readonly Linear fc;

    /// <summary>Creates the network.</summary>
    /// <param name="depth">Total depth <c>6n + 2</c> with n &gt;= 1 blocks per stage (8, 14, 20, 32, 56, 110, ...).</param>
    /// <param name="stageWidths">Output channels of the three stages (each &gt;= 1).</param>
    /// <param name="stemWidth">Output channels of the stem convolution (&gt;= 1).</param>
    /// <param name="numClasses">Number of classes (&gt;= 2).</param>
    /// <param name="inputChannels">Channels of the input images (1 for grey, 3 for colour).</param>
    /// <exception cref="ArgumentException">A depth that is not 6n + 2 with n &gt;= 1, not exactly three stage widths, or a width, class count or channel count out of range.</exception>
    public ResNetCifar(int depth, IReadOnlyList<int> stageWidths, int stemWidth, int numClasses = 10, int inputChannels = 3)
        : base(nameof(ResNetCifar))
    {
        ArgumentNullException.ThrowIfNull(stageWidths);
        if (depth < 8 || (depth - 2) % 6 != 0)
        {
            throw new ArgumentException($"'depth' must be 6n + 2 with n >= 1 (8, 14, 20, 32, 56, 110, ...); got {depth}.", nameof(depth));
        }

        if (stageWidths.Count != 3 || stageWidths.Any(w => w < 1))
        {
            throw new ArgumentException(
                $"'stageWidths' must be three widths >= 1 (one per stage); got [{string.Join(", ", stageWidths)}].", nameof(stageWidths));
        }

        CheckAtLeast(stemWidth, 1, nameof(stemWidth));
        CheckAtLeast(numClasses, 2, nameof(numClasses));
        CheckAtLeast(inputChannels, 1, nameof(inputChannels));

        Depth = depth;
        BlocksPerStage = (depth - 2) / 6;
        StageWidths = stageWidths.ToArray();
        StemWidth = stemWidth;
        NumClasses = numClasses;
        InputChannels = inputChannels;

        stem = Sequential(
            ("conv", BasicBlock.HeConv(inputChannels, stemWidth, 3, 1)),
            ("bn", BatchNorm2d(stemWidth)),
            ("relu", ReLU()));
        stage1 = Stage(stemWidth, StageWidths[0], BlocksPerStage, 1);
        stage2 = Stage(StageWidths[0], StageWidths[1], BlocksPerStage, 2);
        stage3 = Stage(StageWidths[1], StageWidths[2], BlocksPerStage, 2);
        pool = Pool();
        fc = Linear(StageWidths[2], numClasses);
        RegisterComponents();
    }

    /// <summary>The depth <c>6n + 2</c>.</summary>
    public int Depth { get; }

    /// <summary>Basic blocks per stage, <c>n = (depth - 2) / 6</c>.</summary>
    public int BlocksPerStage { get; }

    /// <summary>Output channels of the stem convolution.</summary>
    public int StemWidth { get; }

    /// <summary>Output channels of <c>stage1</c>, <c>stage2</c> and <c>stage3</c>.</summary>
    public IReadOnlyList<int> StageWidths { get; }

    /// <summary>Channels of the last stage's output (<c>stage3</c>), which is also the length of the pooled vector (<c>pool</c>).</summary>
    public int FeatureChannels => StageWidths[2];

    /// <summary>Number of classes.</summary>
    public int NumClasses { get; }

    /// <summary>Channels of the input images.</summary>
    public int InputChannels { get; }

    /// <summary>
    /// RepDistiller's <c>resnet8x4</c> (one block per stage; stem 32, stages 64, 128, 256 channels; about 1.2 M parameters
    /// for 100 classes), widths multiplied by <paramref name="widthScale"/>.
    /// </summary>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="inputChannels">Channels of the input images.</param>
    /// <param name="widthScale">Width multiplier &gt; 0; each width is rounded and at least 1 (0.25 gives 8, 16, 32, 64).</param>
    public static ResNetCifar ResNet8x4(int numClasses = 10, int inputChannels = 3, double widthScale = 1.0) =>
        X4(8, numClasses, inputChannels, widthScale);

    /// <summary>
    /// RepDistiller's <c>resnet32x4</c> (five blocks per stage; stem 32, stages 64, 128, 256 channels; about 7.4 M parameters
    /// for 100 classes), widths multiplied by <paramref name="widthScale"/>.
    /// </summary>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="inputChannels">Channels of the input images.</param>
    /// <param name="widthScale">Width multiplier &gt; 0; each width is rounded and at least 1.</param>
    public static ResNetCifar ResNet32x4(int numClasses = 10, int inputChannels = 3, double widthScale = 1.0) =>
        X4(32, numClasses, inputChannels, widthScale);

    /// <summary>
    /// He et al.'s original CIFAR family: stem <paramref name="baseWidth"/>, stages <c>w, 2w, 4w</c>
    /// (<c>Create(20)</c>, <c>Create(32)</c>, <c>Create(56)</c>, <c>Create(110)</c> are ResNet-20/32/56/110 with w = 16,
    /// here with projection shortcuts).
    /// </summary>
    /// <param name="depth">Total depth <c>6n + 2</c>.</param>
    /// <param name="baseWidth">Width w of the stem and the first stage (&gt;= 1).</param>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="inputChannels">Channels of the input images.</param>
    public static ResNetCifar Create(int depth, int baseWidth = 16, int numClasses = 10, int inputChannels = 3)
    {
        CheckAtLeast(baseWidth, 1, nameof(baseWidth));
        return new ResNetCifar(depth, new[] { baseWidth, 2 * baseWidth, 4 * baseWidth }, baseWidth, numClasses, inputChannels);
    }

    /// <summary>
    /// Builds a branch with the architecture of this network's last stage and head, <c>stage3 -&gt; pool -&gt; fc</c>
    /// (submodules of those names), mapping the output of <c>stage2</c> to logits: the "knowledge bridge" branch of SOKD.
    /// The branch is a new module on this network's device and dtype, in this network's train/eval mode; it shares no
    /// tensor with the network.
    /// </summary>
    /// <param name="numClasses">Classes of the branch's classifier (must equal <see cref="NumClasses"/> when copying weights).</param>
    /// <param name="copyWeights">
    /// <c>true</c>: parameters and BatchNorm statistics are copies of this network's <c>stage3</c> and <c>fc</c>;
    /// <c>false</c>: freshly initialised like a new network (He-normal convolutions, BatchNorm 1/0, default linear layer).
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="numClasses"/> is below 2, or differs from <see cref="NumClasses"/> when copying.</exception>
    public Module<Tensor, Tensor> CreateLastStageBranch(int numClasses, bool copyWeights)
    {
        CheckAtLeast(numClasses, 2, nameof(numClasses));
        if (copyWeights && numClasses != NumClasses)
        {
            throw new ArgumentException(
                $"Copying weights needs the network's class count {NumClasses}; got numClasses = {numClasses}.", nameof(numClasses));
        }

        var branch = new LastStageBranch(
            StageWidths[1], Stage(StageWidths[1], StageWidths[2], BlocksPerStage, 2), Pool(), Linear(StageWidths[2], numClasses));
        branch.to(fc.weight.dtype).to(fc.weight.device);
        if (copyWeights)
        {
            using var _ = no_grad();
            var source = state_dict();
            foreach (var (name, target) in branch.state_dict())
            {
                target.copy_(source[name]);
            }
        }

        branch.train(training);
        return branch;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4 || input.shape[1] != InputChannels)
        {
            throw new ArgumentException(
                $"ResNetCifar expects [batch, {InputChannels}, height, width]; got {Guard.Shape(input)}.", nameof(input));
        }

        // Children through call(x), so forward hooks on them fire (feature capture by name).
        using var s = stem.call(input);
        using var f1 = stage1.call(s);
        using var f2 = stage2.call(f1);
        using var f3 = stage3.call(f2);
        using var pooled = pool.call(f3);
        return fc.call(pooled);
    }

    private static ResNetCifar X4(int depth, int numClasses, int inputChannels, double widthScale)
    {
        Guard.Positive(widthScale, nameof(widthScale));
        int Scale(int width) => Math.Max(1, (int)Math.Round(width * widthScale, MidpointRounding.AwayFromZero));
        return new ResNetCifar(depth, new[] { Scale(64), Scale(128), Scale(256) }, Scale(32), numClasses, inputChannels);
    }

    private static Sequential Stage(int inChannels, int width, int blocks, int stride) =>
        Sequential(Enumerable.Range(0, blocks).Select(i =>
            (i.ToString(System.Globalization.CultureInfo.InvariantCulture),
             (Module<Tensor, Tensor>)new BasicBlock(i == 0 ? inChannels : width, width, i == 0 ? stride : 1))).ToList());

    private static Sequential Pool() => Sequential(("avgpool", AdaptiveAvgPool2d(1)), ("flatten", Flatten()));

    private static void CheckAtLeast(int value, int min, string paramName)
    {
        if (value < min)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"'{paramName}' must be >= {min}.");
        }
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var x = graph.Emit(stem, input, nameof(stem));
        x = graph.Emit(stage1, x, nameof(stage1));
        x = graph.Emit(stage2, x, nameof(stage2));
        x = graph.Emit(stage3, x, nameof(stage3));
        x = graph.Emit(pool, x, nameof(pool));
        return graph.Emit(fc, x, nameof(fc));
    }
}
