using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Models;

/// <summary>
/// A small convolutional classifier for 1-channel 28x28 images (Fashion-MNIST, MNIST), built from
/// <c>conv3x3 - BatchNorm - ReLU - maxpool</c> blocks and a linear head. <see cref="Teacher"/> and
/// <see cref="Student"/> give the reference pair used by the samples and benchmarks. Submodules are
/// named for feature capture: <c>features</c>, <c>features.block{i}</c>, <c>classifier</c>.
/// </summary>
public sealed class SmallCnn : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Sequential features;
    private readonly Sequential classifier;

    /// <summary>Creates the network.</summary>
    /// <param name="channels">Output channels of each conv block (each block halves the spatial size).</param>
    /// <param name="hidden">Width of the hidden linear layer of the head; 0 for a single linear layer.</param>
    /// <param name="numClasses">Number of classes.</param>
    /// <param name="inputChannels">Input channels (1 for grey images).</param>
    /// <param name="inputSize">Input height and width (28 for Fashion-MNIST).</param>
    /// <param name="dropout">Dropout before the classifier layers, in [0, 1).</param>
    /// <exception cref="ArgumentException">No blocks, a non-positive width, or an input too small for the blocks.</exception>
    public SmallCnn(IReadOnlyList<int> channels, int hidden = 0, int numClasses = 10, int inputChannels = 1, int inputSize = 28, double dropout = 0.0)
        : base(nameof(SmallCnn))
    {
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count == 0 || channels.Any(c => c < 1))
        {
            throw new ArgumentException("'channels' needs at least one block, each with >= 1 channel.", nameof(channels));
        }

        if (numClasses < 2 || hidden < 0 || inputChannels < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(numClasses), "numClasses must be >= 2, hidden >= 0 and inputChannels >= 1.");
        }

        if (!(dropout >= 0 && dropout < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "'dropout' must be in [0, 1).");
        }

        var size = inputSize;
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        var inChannels = inputChannels;
        for (var i = 0; i < channels.Count; i++)
        {
            blocks.Add(($"block{i + 1}", Sequential(
                ("conv", Conv2d(inChannels, channels[i], 3, padding: 1, bias: false)),
                ("bn", BatchNorm2d(channels[i])),
                ("relu", ReLU()),
                ("pool", MaxPool2d(2)))));
            inChannels = channels[i];
            size /= 2;
        }

        if (size < 1)
        {
            throw new ArgumentException($"An input of {inputSize}x{inputSize} is too small for {channels.Count} pooling blocks.", nameof(inputSize));
        }

        features = Sequential(blocks);
        var flat = inChannels * size * size;
        var head = new List<(string, Module<Tensor, Tensor>)> { ("flatten", Flatten()) };
        if (dropout > 0)
        {
            head.Add(("dropout", Dropout(dropout)));
        }

        if (hidden > 0)
        {
            head.Add(("fc1", Linear(flat, hidden)));
            head.Add(("relu", ReLU()));
            if (dropout > 0)
            {
                head.Add(("dropout2", Dropout(dropout)));
            }

            head.Add(("fc2", Linear(hidden, numClasses)));
        }
        else
        {
            head.Add(("fc", Linear(flat, numClasses)));
        }

        classifier = Sequential(head);
        RegisterComponents();
    }

    /// <summary>The reference teacher: blocks of 32 and 64 channels, a 128-unit head, dropout 0.25 (about 0.42 M parameters).</summary>
    /// <param name="numClasses">Number of classes.</param>
    public static SmallCnn Teacher(int numClasses = 10) => new(new[] { 32, 64 }, hidden: 128, numClasses: numClasses, dropout: 0.25);

    /// <summary>The reference student: blocks of 4 and 8 channels and a linear head (about 4.5 K parameters, ~1% of the teacher).</summary>
    /// <param name="numClasses">Number of classes.</param>
    public static SmallCnn Student(int numClasses = 10) => new(new[] { 4, 8 }, hidden: 0, numClasses: numClasses);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 4)
        {
            throw new ArgumentException($"SmallCnn expects [batch, channels, height, width]; got {Guard.Shape(input)}.", nameof(input));
        }

        return classifier.call(features.call(input));
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Emit(classifier, graph.Emit(features, input, nameof(features)), nameof(classifier));
    }
}
