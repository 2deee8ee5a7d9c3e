using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Models;

/// <summary>
/// A multi-layer perceptron over flattened inputs: <c>Linear - ReLU</c> per hidden layer, then a linear
/// head. Submodules are named <c>layers.fc{i}</c> and <c>layers.head</c> for feature capture.
/// </summary>
public sealed class Mlp : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Sequential layers;

    /// <summary>Creates the network.</summary>
    /// <param name="inputSize">Features per sample after flattening (784 for 28x28 images).</param>
    /// <param name="hidden">Widths of the hidden layers (may be empty: a linear classifier).</param>
    /// <param name="numClasses">Number of classes.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Mlp(int inputSize, IReadOnlyList<int> hidden, int numClasses = 10)
        : base(nameof(Mlp))
    {
        ArgumentNullException.ThrowIfNull(hidden);
        if (inputSize < 1 || numClasses < 2 || hidden.Any(h => h < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(inputSize), "inputSize and hidden widths must be >= 1 and numClasses >= 2.");
        }

        var modules = new List<(string, Module<Tensor, Tensor>)> { ("flatten", Flatten()) };
        var width = inputSize;
        for (var i = 0; i < hidden.Count; i++)
        {
            modules.Add(($"fc{i + 1}", Linear(width, hidden[i])));
            modules.Add(($"relu{i + 1}", ReLU()));
            width = hidden[i];
        }

        modules.Add(("head", Linear(width, numClasses)));
        layers = Sequential(modules);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => layers.call(input);

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Emit(layers, input, nameof(layers));
    }
}
