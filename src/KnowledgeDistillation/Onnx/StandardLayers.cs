using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Onnx;

/// <summary>
/// ONNX emitters for the standard TorchSharp layers, in eval mode: BatchNorm uses its running statistics, dropout is
/// the identity. Anything else throws <see cref="OnnxExportException"/> naming the layer's path and type.
/// </summary>
internal static class StandardLayers
{
    /// <summary>The layers with a built-in emitter, for error messages and documentation.</summary>
    public const string Supported =
        "Sequential, Linear, Conv1d, Conv2d, BatchNorm1d, BatchNorm2d, LayerNorm, MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, " +
        "AdaptiveAvgPool1d/2d (output size 1), Flatten (to the last dimension), Dropout, Dropout1d, Dropout2d, AlphaDropout, Identity, " +
        "ReLU, ReLU6, LeakyReLU, ELU, GELU, SiLU, Mish, Sigmoid, Tanh, Hardswish, Hardsigmoid, Softplus (beta 1), " +
        "Softmax and LogSoftmax";

    public static OnnxValue Emit(OnnxGraphBuilder g, nn.Module module, OnnxValue x)
    {
        switch (module)
        {
            case Sequential sequential:
                foreach (var (name, child) in sequential.named_children())
                {
                    x = g.Emit(child, x, name);
                }

                return x;
            case Linear linear:
                return EmitLinear(g, linear, x);
            case Convolution conv:
                return EmitConv(g, conv, x);
            case BatchNorm bn:
                return EmitBatchNorm(g, bn, x);
            case LayerNorm ln:
                return EmitLayerNorm(g, ln, x);
            case MaxPool2d pool:
                return Pool(g, "MaxPool", x, pool.kernel_size, pool.stride, pool.padding, pool.ceil_mode, OnnxAttribute.Ints("dilations", pool.dilation ?? Ones(pool.kernel_size.Length)));
            case MaxPool1d pool:
                return Pool(g, "MaxPool", x, new[] { pool.kernel_size }, pool.stride is { } s1 ? new[] { s1 } : null, new[] { pool.padding ?? 0 }, pool.ceil_mode, OnnxAttribute.Ints("dilations", pool.dilation ?? 1));
            case AvgPool2d pool:
                if (pool.divisor_override is not null)
                {
                    throw Unsupported(g, module, "divisor_override has no ONNX AveragePool equivalent.");
                }

                return Pool(g, "AveragePool", x, pool.kernel_size, pool.stride, pool.padding, pool.ceil_mode, OnnxAttribute.Int("count_include_pad", pool.count_include_pad ? 1 : 0));
            case AvgPool1d pool:
                return Pool(g, "AveragePool", x, new[] { pool.kernel_size }, pool.stride is { } s2 ? new[] { s2 } : null, new[] { pool.padding ?? 0 }, pool.ceil_mode, OnnxAttribute.Int("count_include_pad", pool.count_include_pad ? 1 : 0));
            case AdaptiveAvgPool2d pool when pool.output_size.All(s => s == 1):
                return g.Node("GlobalAveragePool", new[] { x });
            case AdaptiveAvgPool1d pool when pool.output_size == 1:
                return g.Node("GlobalAveragePool", new[] { x });
            case AdaptiveAvgPool2d or AdaptiveAvgPool1d:
                throw Unsupported(g, module, "only an output size of 1 (global average pooling) is exported; other sizes depend on the input size.");
            case Flatten flatten:
                return EmitFlatten(g, flatten, x);
            case Dropout or Dropout1d or Dropout2d or Dropout3d or AlphaDropout or FeatureAlphaDropout or Identity:
                return x; // eval mode: the identity
            case ReLU:
                return g.Relu(x);
            case ReLU6:
                return g.Node("Clip", new[] { x, g.Scalar(0), g.Scalar(6) });
            case LeakyReLU leaky:
                return g.Node("LeakyRelu", new[] { x }, OnnxAttribute.Float("alpha", leaky.negative_slope));
            case ELU elu:
                return g.Node("Elu", new[] { x }, OnnxAttribute.Float("alpha", elu.alpha));
            case GELU gelu:
                return EmitGelu(g, gelu, x);
            case SiLU:
                return g.Mul(x, g.Node("Sigmoid", new[] { x }));
            case Mish:
                return g.Mul(x, g.Node("Tanh", new[] { g.Node("Softplus", new[] { x }) }));
            case Sigmoid:
                return g.Node("Sigmoid", new[] { x });
            case Tanh:
                return g.Node("Tanh", new[] { x });
            case Hardswish:
                return g.Node("HardSwish", new[] { x });
            case Hardsigmoid:
                return g.Node("HardSigmoid", new[] { x }, OnnxAttribute.Float("alpha", 1.0 / 6), OnnxAttribute.Float("beta", 0.5));
            case Softplus sp when sp.beta == 1:
                return g.Node("Softplus", new[] { x });
            case Softplus:
                throw Unsupported(g, module, "only beta = 1 is exported (ONNX Softplus has no beta).");
            case Softmax sm:
                return g.Node("Softmax", new[] { x }, OnnxAttribute.Int("axis", sm.dim));
            case LogSoftmax lsm:
                return g.Node("LogSoftmax", new[] { x }, OnnxAttribute.Int("axis", lsm.dim));
            default:
                throw Unsupported(g, module,
                    $"it is not a supported standard layer and does not implement {nameof(IOnnxExportable)} (its forward code is not visible to the exporter). " +
                    $"Supported layers: {Supported}. Implement {nameof(IOnnxExportable)} on a module with custom forward code.");
        }
    }

    private static OnnxExportException Unsupported(OnnxGraphBuilder g, nn.Module module, string reason) =>
        new(g.Path, module.GetType().FullName ?? module.GetType().Name, reason);

    private static long[] Ones(int count) => Enumerable.Repeat(1L, count).ToArray();

    private static OnnxValue EmitLinear(OnnxGraphBuilder g, Linear linear, OnnxValue x)
    {
        using var noGrad = no_grad();
        using var weightT = linear.weight.detach().t().contiguous();
        var product = g.Node("MatMul", new[] { x, g.Initializer(weightT, "weight_t") });
        return linear.bias is { } bias ? g.Add(product, g.Initializer(bias, "bias")) : product;
    }

    private static OnnxValue EmitConv(OnnxGraphBuilder g, Convolution conv, OnnxValue x)
    {
        if (conv.transposed)
        {
            throw Unsupported(g, conv, "transposed convolutions are not exported.");
        }

        if (conv.padding_mode != PaddingModes.Zeros)
        {
            throw Unsupported(g, conv, $"padding mode {conv.padding_mode} is not exported (only zero padding).");
        }

        var kernel = conv.kernel_size;
        var dims = kernel.Length;
        if (dims is not (1 or 2))
        {
            throw Unsupported(g, conv, $"{dims}-d convolutions are not exported (1-d and 2-d are).");
        }

        var dilation = conv.dilation ?? Ones(dims);
        long[] pads;
        if (conv.padding_type == Padding.Same)
        {
            // PyTorch's "same": total padding dilation * (kernel - 1), the odd extra on the end side.
            var total = Enumerable.Range(0, dims).Select(i => dilation[i] * (kernel[i] - 1)).ToArray();
            pads = total.Select(t => t / 2).Concat(total.Select(t => t - (t / 2))).ToArray();
        }
        else if (conv.padding_type == Padding.Valid)
        {
            pads = new long[2 * dims];
        }
        else
        {
            var padding = conv.padding ?? new long[dims];
            pads = padding.Concat(padding).ToArray();
        }

        var inputs = new List<OnnxValue> { x, g.Initializer(conv.weight, "weight") };
        if (conv.bias is { } bias)
        {
            inputs.Add(g.Initializer(bias, "bias"));
        }

        return g.Node("Conv", inputs,
            OnnxAttribute.Ints("kernel_shape", kernel),
            OnnxAttribute.Ints("strides", conv.stride ?? Ones(dims)),
            OnnxAttribute.Ints("pads", pads),
            OnnxAttribute.Ints("dilations", dilation),
            OnnxAttribute.Int("group", conv.groups));
    }

    private static OnnxValue EmitBatchNorm(OnnxGraphBuilder g, BatchNorm bn, OnnxValue x)
    {
        if (!bn.track_running_stats || bn.running_mean is null || bn.running_var is null)
        {
            throw Unsupported(g, bn, "without running statistics BatchNorm normalises with batch statistics even in eval mode, which ONNX inference does not do.");
        }

        var channels = bn.num_features;
        var scale = bn.weight is { } w ? g.Initializer(w, "weight") : g.Constant(Enumerable.Repeat(1f, (int)channels).ToArray(), channels);
        var shift = bn.bias is { } b ? g.Initializer(b, "bias") : g.Constant(new float[channels], channels);
        return g.Node("BatchNormalization",
            new[] { x, scale, shift, g.Initializer(bn.running_mean, "running_mean"), g.Initializer(bn.running_var, "running_var") },
            OnnxAttribute.Float("epsilon", bn.eps));
    }

    private static OnnxValue EmitLayerNorm(OnnxGraphBuilder g, LayerNorm ln, OnnxValue x)
    {
        var shape = ln.normalized_shape;
        var count = (int)shape.Aggregate(1L, (a, d) => a * d);
        var scale = ln.weight is { } w ? g.Initializer(w, "weight") : g.Constant(Enumerable.Repeat(1f, count).ToArray(), shape);
        var inputs = new List<OnnxValue> { x, scale };
        if (ln.bias is { } b)
        {
            inputs.Add(g.Initializer(b, "bias"));
        }

        return g.Node("LayerNormalization", inputs, OnnxAttribute.Int("axis", -shape.Length), OnnxAttribute.Float("epsilon", ln.eps));
    }

    private static OnnxValue Pool(OnnxGraphBuilder g, string op, OnnxValue x, long[] kernel, long[]? stride, long[]? padding, bool ceilMode, OnnxAttribute extra)
    {
        var pad = padding ?? new long[kernel.Length];
        return g.Node(op, new[] { x },
            OnnxAttribute.Ints("kernel_shape", kernel),
            OnnxAttribute.Ints("strides", stride ?? kernel), // PyTorch: the stride defaults to the kernel size
            OnnxAttribute.Ints("pads", pad.Concat(pad).ToArray()),
            OnnxAttribute.Int("ceil_mode", ceilMode ? 1 : 0),
            extra);
    }

    private static OnnxValue EmitFlatten(OnnxGraphBuilder g, Flatten flatten, OnnxValue x)
    {
        if (flatten.end_dim != -1 || flatten.start_dim < 0)
        {
            throw Unsupported(g, flatten, $"only Flatten(startDim >= 0, endDim = -1) is exported; got startDim {flatten.start_dim}, endDim {flatten.end_dim}.");
        }

        if (flatten.start_dim == 1)
        {
            return g.Node("Flatten", new[] { x }, OnnxAttribute.Int("axis", 1));
        }

        // [d0 .. d(start-1), -1]: keeps the leading dimensions whatever their (dynamic) sizes.
        var shape = g.Node("Shape", new[] { x });
        var lead = g.Slice(shape, 0, 0, flatten.start_dim);
        var target = g.Node("Concat", new[] { lead, g.Int64s(-1) }, OnnxAttribute.Int("axis", 0));
        return g.Node("Reshape", new[] { x, target });
    }

    private static OnnxValue EmitGelu(OnnxGraphBuilder g, GELU gelu, OnnxValue x)
    {
        var half = g.Mul(x, g.Scalar(0.5));
        OnnxValue inner;
        if (gelu.approximate == GELU.Approximate.tanh)
        {
            // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            var cube = g.Mul(g.Mul(x, x), x);
            var poly = g.Add(x, g.Mul(cube, g.Scalar(0.044715)));
            inner = g.Node("Tanh", new[] { g.Mul(poly, g.Scalar(Math.Sqrt(2 / Math.PI))) });
        }
        else
        {
            inner = g.Node("Erf", new[] { g.Mul(x, g.Scalar(1 / Math.Sqrt(2))) });
        }

        return g.Mul(half, g.Add(inner, g.Scalar(1)));
    }
}
