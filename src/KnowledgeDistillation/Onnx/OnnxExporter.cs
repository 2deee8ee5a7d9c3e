using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Onnx;

/// <summary>
/// Exports a <c>Module&lt;Tensor, Tensor&gt;</c> to an ONNX model file that ONNX Runtime (or any ONNX runtime) runs:
/// one float32 input, one float32 output, float32 weights stored in the file, eval-mode semantics (BatchNorm running
/// statistics, dropout off). The module tree is walked from the root: Sequential containers and standard layers are
/// translated directly, modules with their own forward code implement <see cref="IOnnxExportable"/> (the library's
/// <c>SmallCnn</c>, <c>Mlp</c>, <c>ResNetCifar</c> and the Graph package's GNNs do), and anything else fails with an
/// <see cref="OnnxExportException"/> naming the layer's path and type. The protobuf is written by the library itself;
/// the export needs no extra package.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Exports <paramref name="module"/> to the file <paramref name="path"/> (written to a temporary name and renamed).</summary>
    /// <param name="module">The model (any device, any mode; its mode is unchanged afterwards).</param>
    /// <param name="path">The destination <c>.onnx</c> file.</param>
    /// <param name="options">The input shape and export settings.</param>
    /// <exception cref="ArgumentException">Bad options, or an input shape the model does not accept.</exception>
    /// <exception cref="OnnxExportException">A layer has no ONNX translation.</exception>
    public static void Export(nn.Module<Tensor, Tensor> module, string path, OnnxExportOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var bytes = ToBytes(module, options);
        Internal.AtomicFile.Write(path, file => file.Write(bytes));
    }

    /// <summary>Exports <paramref name="module"/> to <paramref name="stream"/>.</summary>
    /// <param name="module">The model.</param>
    /// <param name="stream">The destination.</param>
    /// <param name="options">The input shape and export settings.</param>
    /// <exception cref="ArgumentException">Bad options, or an input shape the model does not accept.</exception>
    /// <exception cref="OnnxExportException">A layer has no ONNX translation.</exception>
    public static void Export(nn.Module<Tensor, Tensor> module, Stream stream, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(ToBytes(module, options));
    }

    /// <summary>Exports <paramref name="module"/> and returns the ONNX model's bytes.</summary>
    /// <param name="module">The model.</param>
    /// <param name="options">The input shape and export settings.</param>
    /// <returns>The serialized <c>ModelProto</c>.</returns>
    /// <exception cref="ArgumentException">Bad options, or an input shape the model does not accept.</exception>
    /// <exception cref="OnnxExportException">A layer has no ONNX translation.</exception>
    public static byte[] ToBytes(nn.Module<Tensor, Tensor> module, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        var outputShape = SampleOutputShape(module, options.InputShape);

        var graph = new OnnxGraphBuilder(options.Opset);
        var inputShape = options.InputShape.Select(d => (OnnxDimension)d).ToArray();
        var outShape = outputShape.Select(d => (OnnxDimension)d).ToArray();
        var input = graph.AddInput(options.InputName, OnnxDataType.Float, inputShape);
        var output = graph.EmitHere(module, input);
        if (options.DynamicBatch)
        {
            if (graph.StaticInputReason is { } reason)
            {
                throw new ArgumentException(
                    $"{module.GetType().Name} cannot be exported with a dynamic batch dimension: {reason} Set {nameof(OnnxExportOptions.DynamicBatch)} = false.",
                    nameof(options));
            }

            inputShape[0] = OnnxDimension.Symbolic(options.BatchDimensionName);
            if (outShape.Length > 0)
            {
                outShape[0] = OnnxDimension.Symbolic(options.BatchDimensionName);
            }
        }

        graph.AddOutput(output, options.OutputName, OnnxDataType.Float, outShape);
        using var stream = new MemoryStream();
        graph.ReplaceInputShape(input, inputShape);
        graph.WriteModel(stream, module.GetName());
        return stream.ToArray();
    }

    private static void Validate(OnnxExportOptions options)
    {
        if (options.InputShape is null || options.InputShape.Count == 0 || options.InputShape.Any(d => d < 1))
        {
            throw new ArgumentException(
                $"'{nameof(OnnxExportOptions.InputShape)}' must be the shape of one example input, batch first, every dimension >= 1 (e.g. [1, 1, 28, 28]); got {Guard.FormatShape(options.InputShape ?? Array.Empty<long>())}.",
                nameof(options));
        }

        if (options.Opset is < OnnxGraphBuilder.MinOpset or > OnnxGraphBuilder.MaxOpset)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Opset,
                $"'{nameof(OnnxExportOptions.Opset)}' must be in [{OnnxGraphBuilder.MinOpset}, {OnnxGraphBuilder.MaxOpset}]; got {options.Opset}.");
        }

        Guard.Name(options.InputName, nameof(OnnxExportOptions.InputName));
        Guard.Name(options.OutputName, nameof(OnnxExportOptions.OutputName));
        Guard.Name(options.BatchDimensionName, nameof(OnnxExportOptions.BatchDimensionName));
        if (options.InputName == options.OutputName)
        {
            throw new ArgumentException($"'{nameof(OnnxExportOptions.InputName)}' and '{nameof(OnnxExportOptions.OutputName)}' must differ; both are '{options.InputName}'.", nameof(options));
        }
    }

    /// <summary>Runs the model once in eval mode on zeros of <paramref name="inputShape"/>: checks the shape and gives the output's.</summary>
    private static long[] SampleOutputShape(nn.Module<Tensor, Tensor> module, IReadOnlyList<long> inputShape)
    {
        var device = module.parameters().Select(p => p.device).FirstOrDefault() ?? CPU;
        var wasTraining = module.training;
        try
        {
            module.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            using var sample = zeros(inputShape.ToArray(), ScalarType.Float32, device);
            using var output = module.call(sample);
            return output.shape;
        }
        catch (Exception e) when (e is not OnnxExportException and not OutOfMemoryException)
        {
            throw new ArgumentException(
                $"The model does not accept an input of shape {Guard.FormatShape(inputShape)} ({nameof(OnnxExportOptions.InputShape)}): {e.Message}",
                nameof(OnnxExportOptions.InputShape), e);
        }
        finally
        {
            module.train(wasTraining);
        }
    }
}
