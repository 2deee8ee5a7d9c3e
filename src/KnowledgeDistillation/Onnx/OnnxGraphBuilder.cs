using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Onnx;

/// <summary>
/// Builds an ONNX graph (default domain, opsets <see cref="MinOpset"/> to <see cref="MaxOpset"/>): inputs, outputs,
/// float32/int64 initializers and nodes, with unique value names derived from the module path. Modules are emitted
/// with <see cref="Emit"/>, which dispatches standard TorchSharp layers to built-in emitters and other modules to
/// their <see cref="IOnnxExportable"/> implementation, and throws <see cref="OnnxExportException"/> naming the layer
/// otherwise. <see cref="OnnxExporter"/> drives it for a <c>Module&lt;Tensor, Tensor&gt;</c>; use it directly for models
/// with other signatures.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>The lowest supported opset.</summary>
    public const int MinOpset = 17;

    /// <summary>The highest supported opset.</summary>
    public const int MaxOpset = 21;

    private const long MaxProtobufBytes = int.MaxValue - (16L << 20);

    private readonly List<NodeData> nodes = new();
    private readonly List<InitializerData> initializers = new();
    private readonly List<ValueInfo> inputs = new();
    private readonly List<ValueInfo> outputs = new();
    private readonly Dictionary<Tensor, OnnxValue> tensorValues = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<string> names = new(StringComparer.Ordinal);
    private readonly List<string> path = new();
    private long initializerBytes;
    private int counter;

    /// <summary>Creates an empty graph.</summary>
    /// <param name="opset">The ONNX opset version of the default domain, <see cref="MinOpset"/> to <see cref="MaxOpset"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="opset"/> is outside the supported range.</exception>
    public OnnxGraphBuilder(int opset = OnnxExportOptions.DefaultOpset)
    {
        if (opset is < MinOpset or > MaxOpset)
        {
            throw new ArgumentOutOfRangeException(nameof(opset), opset, $"'opset' must be in [{MinOpset}, {MaxOpset}].");
        }

        Opset = opset;
    }

    /// <summary>The opset version of the default domain.</summary>
    public int Opset { get; }

    /// <summary>The path of the module being emitted (<c>features.block1</c>); empty at the root.</summary>
    public string Path => string.Join('.', path);

    /// <summary>
    /// Why the graph's inputs must have fixed shapes (e.g. a graph model whose node count is baked into its edge
    /// constants), or <c>null</c> when a dynamic batch dimension is fine.
    /// </summary>
    public string? StaticInputReason { get; private set; }

    /// <summary>Records that the exported graph only works for the exact input shape (see <see cref="StaticInputReason"/>).</summary>
    /// <param name="reason">Why, for documentation and errors.</param>
    public void RequireStaticInputShape(string reason) => StaticInputReason ??= Guard.Name(reason, nameof(reason));

    /// <summary>Throws <see cref="OnnxExportException"/> for the current module when <see cref="Opset"/> is below <paramref name="minimum"/>.</summary>
    /// <param name="minimum">The lowest opset that has what the module needs.</param>
    /// <param name="what">What needs it (an operator and attribute).</param>
    /// <param name="module">The module being emitted.</param>
    public void RequireOpset(int minimum, string what, nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (Opset < minimum)
        {
            throw new OnnxExportException(Path, module.GetType().Name, $"{what} needs opset {minimum} or later; the export uses opset {Opset}.");
        }
    }

    /// <summary>Enters a named child scope of the module path (for child modules a custom emitter computes inline).</summary>
    /// <param name="name">The child's name.</param>
    /// <returns>Leaves the scope when disposed.</returns>
    public IDisposable Scope(string name)
    {
        path.Add(Guard.Name(name, nameof(name)));
        return new PathScope(path);
    }

    /// <summary>Adds a graph input.</summary>
    /// <param name="name">The input's name (unique in the graph).</param>
    /// <param name="type">The element type.</param>
    /// <param name="shape">The dimensions (fixed or symbolic).</param>
    /// <returns>The input value.</returns>
    public OnnxValue AddInput(string name, OnnxDataType type, IReadOnlyList<OnnxDimension> shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var value = new OnnxValue(Reserve(Guard.Name(name, nameof(name)), exact: true, nameof(name)));
        inputs.Add(new ValueInfo(value.Name, type, shape.ToArray()));
        return value;
    }

    /// <summary>Replaces the declared shape of graph input <paramref name="input"/> (e.g. to make its batch dimension symbolic after the emitters ran).</summary>
    internal void ReplaceInputShape(OnnxValue input, OnnxDimension[] shape)
    {
        var index = inputs.FindIndex(i => i.Name == input.Name);
        inputs[index] = inputs[index] with { Shape = shape };
    }

    /// <summary>Declares <paramref name="value"/> a graph output named <paramref name="name"/> (through an Identity node when the names differ).</summary>
    /// <param name="value">The value to output.</param>
    /// <param name="name">The output's name (unique in the graph).</param>
    /// <param name="type">The element type.</param>
    /// <param name="shape">The dimensions, or <c>null</c> to leave the shape to the runtime.</param>
    public void AddOutput(OnnxValue value, string name, OnnxDataType type, IReadOnlyList<OnnxDimension>? shape = null)
    {
        Guard.Name(name, nameof(name));
        if (value.Name != name)
        {
            Reserve(name, exact: true, nameof(name));
            nodes.Add(new NodeData("Identity", new[] { value.Name }, new[] { name }, Array.Empty<OnnxAttribute>(), "output_" + name));
        }

        outputs.Add(new ValueInfo(name, type, shape?.ToArray()));
    }

    /// <summary>
    /// Adds <paramref name="tensor"/> as an initializer (floating-point tensors as float32, integer and boolean tensors as
    /// int64), copied to the host. The same tensor object added twice gives the same value.
    /// </summary>
    /// <param name="tensor">The tensor (any device).</param>
    /// <param name="name">The name under the current path (e.g. <c>weight</c>), or <c>null</c> for a generated one.</param>
    /// <returns>The initializer's value.</returns>
    public OnnxValue Initializer(Tensor tensor, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensorValues.TryGetValue(tensor, out var existing))
        {
            return existing;
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var host = tensor.detach().cpu();
        var shape = host.shape;
        OnnxValue value;
        if (host.is_floating_point())
        {
            value = AddInitializer(name ?? "const", OnnxDataType.Float, shape, MemoryMarshal.AsBytes<float>(host.to_type(ScalarType.Float32).contiguous().data<float>().ToArray()).ToArray());
        }
        else if (host.is_complex())
        {
            throw new OnnxExportException(Path, "Tensor", $"complex tensors ({host.dtype}) cannot be written as ONNX initializers.");
        }
        else
        {
            value = AddInitializer(name ?? "const", OnnxDataType.Int64, shape, MemoryMarshal.AsBytes<long>(host.to_type(ScalarType.Int64).contiguous().data<long>().ToArray()).ToArray());
        }

        tensorValues[tensor] = value;
        return value;
    }

    /// <summary>Adds a float32 constant of shape <paramref name="shape"/>.</summary>
    /// <param name="values">The values in row-major order.</param>
    /// <param name="shape">The shape (its product must equal the number of values).</param>
    /// <returns>The constant's value.</returns>
    public OnnxValue Constant(float[] values, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(shape);
        CheckCount(values.Length, shape);
        return AddInitializer("const", OnnxDataType.Float, shape, MemoryMarshal.AsBytes<float>(values).ToArray());
    }

    /// <summary>Adds a float32 scalar constant (shape []).</summary>
    /// <param name="value">The value.</param>
    /// <returns>The constant's value.</returns>
    public OnnxValue Scalar(double value) => Constant(new[] { (float)value });

    /// <summary>Adds a one-dimensional int64 constant (shapes, axes, indices).</summary>
    /// <param name="values">The values.</param>
    /// <returns>The constant's value.</returns>
    public OnnxValue Int64s(params long[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return AddInitializer("const", OnnxDataType.Int64, new[] { (long)values.Length }, MemoryMarshal.AsBytes<long>(values).ToArray());
    }

    /// <summary>Adds a node with one output.</summary>
    /// <param name="opType">The operator (default ONNX domain), e.g. <c>Conv</c>.</param>
    /// <param name="inputs">The node's inputs in operator order.</param>
    /// <param name="attributes">The node's attributes.</param>
    /// <returns>The output value.</returns>
    public OnnxValue Node(string opType, IReadOnlyList<OnnxValue> inputs, params OnnxAttribute[] attributes) =>
        Node(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs.</summary>
    /// <param name="opType">The operator (default ONNX domain).</param>
    /// <param name="inputs">The node's inputs in operator order.</param>
    /// <param name="outputCount">The number of outputs, &gt;= 1.</param>
    /// <param name="attributes">The node's attributes.</param>
    /// <returns>The output values.</returns>
    public IReadOnlyList<OnnxValue> Node(string opType, IReadOnlyList<OnnxValue> inputs, int outputCount, params OnnxAttribute[] attributes)
    {
        Guard.Name(opType, nameof(opType));
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(attributes);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        var prefix = Path.Length == 0 ? opType : Path + "/" + opType;
        var outs = Enumerable.Range(0, outputCount).Select(_ => Reserve(prefix, exact: false, nameof(opType))).ToArray();
        nodes.Add(new NodeData(opType, inputs.Select(i => i.Name).ToArray(), outs, attributes.ToArray(), outs[0]));
        return outs.Select(o => new OnnxValue(o)).ToArray();
    }

    /// <summary>Adds <c>a + b</c> (broadcasting).</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The sum.</returns>
    public OnnxValue Add(OnnxValue a, OnnxValue b) => Node("Add", new[] { a, b });

    /// <summary>Adds <c>a * b</c> (broadcasting).</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The product.</returns>
    public OnnxValue Mul(OnnxValue a, OnnxValue b) => Node("Mul", new[] { a, b });

    /// <summary>Adds <c>a - b</c> (broadcasting).</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    /// <returns>The difference.</returns>
    public OnnxValue Sub(OnnxValue a, OnnxValue b) => Node("Sub", new[] { a, b });

    /// <summary>Adds <c>max(x, 0)</c>.</summary>
    /// <param name="x">The input.</param>
    /// <returns>The rectified value.</returns>
    public OnnxValue Relu(OnnxValue x) => Node("Relu", new[] { x });

    /// <summary>Adds a sum over <paramref name="axes"/>.</summary>
    /// <param name="x">The input.</param>
    /// <param name="keepDims">Whether the reduced axes stay as size 1.</param>
    /// <param name="axes">The axes (negative counts from the end).</param>
    /// <returns>The sum.</returns>
    public OnnxValue ReduceSum(OnnxValue x, bool keepDims, params long[] axes) =>
        Node("ReduceSum", new[] { x, Int64s(axes) }, OnnxAttribute.Int("keepdims", keepDims ? 1 : 0));

    /// <summary>Adds a slice <c>x[start:end]</c> along <paramref name="axis"/>.</summary>
    /// <param name="x">The input.</param>
    /// <param name="axis">The axis.</param>
    /// <param name="start">The first index.</param>
    /// <param name="end">One past the last index.</param>
    /// <returns>The slice.</returns>
    public OnnxValue Slice(OnnxValue x, long axis, long start, long end) =>
        Node("Slice", new[] { x, Int64s(start), Int64s(end), Int64s(axis) });

    /// <summary>
    /// Emits <paramref name="module"/>, a child named <paramref name="name"/> of the current module, applied to
    /// <paramref name="input"/>: <see cref="IOnnxExportable"/> modules emit themselves, standard layers (Sequential,
    /// Linear, Conv1d/2d, BatchNorm1d/2d, LayerNorm, pooling, Flatten, Dropout, Identity and common activations) have
    /// built-in emitters with eval-mode semantics.
    /// </summary>
    /// <param name="module">The child module.</param>
    /// <param name="input">Its input.</param>
    /// <param name="name">The child's name in the module path.</param>
    /// <returns>Its output.</returns>
    /// <exception cref="OnnxExportException">The module (or a layer inside it) has no ONNX translation; the message names its path and type.</exception>
    public OnnxValue Emit(nn.Module module, OnnxValue input, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var scope = Scope(name);
        return EmitHere(module, input);
    }

    /// <summary>Emits <paramref name="module"/> at the current path (the root module).</summary>
    internal OnnxValue EmitHere(nn.Module module, OnnxValue input)
    {
        if (module is IOnnxExportable exportable)
        {
            return exportable.EmitOnnx(this, input);
        }

        return StandardLayers.Emit(this, module, input);
    }

    /// <summary>Encodes the graph as an ONNX <c>ModelProto</c>.</summary>
    /// <param name="stream">The destination.</param>
    /// <param name="graphName">The graph's name.</param>
    /// <exception cref="InvalidOperationException">The graph has no input or no output.</exception>
    public void WriteModel(Stream stream, string graphName = "model")
    {
        ArgumentNullException.ThrowIfNull(stream);
        Guard.Name(graphName, nameof(graphName));
        if (inputs.Count == 0 || outputs.Count == 0)
        {
            throw new InvalidOperationException("The graph needs at least one input and one output before it is written.");
        }

        var model = new ProtoWriter();
        model.Varint(1, IrVersion(Opset));
        model.String(2, "KnowledgeDistillation");
        model.String(3, typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0");
        model.Message(7, WriteGraph(graphName));
        model.Message(8, opset =>
        {
            opset.String(1, string.Empty);
            opset.Varint(2, Opset);
        });
        model.CopyTo(stream);
    }

    private static long IrVersion(int opset) => opset switch
    {
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    private static void CheckCount(long count, long[] shape)
    {
        if (shape.Any(d => d < 0) || shape.Aggregate(1L, (a, d) => a * d) != count)
        {
            throw new ArgumentException($"{count} values do not fill the shape {Guard.FormatShape(shape)}.", nameof(shape));
        }
    }

    private OnnxValue AddInitializer(string name, OnnxDataType type, long[] shape, byte[] raw)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX initializers are little-endian; this exporter runs on little-endian machines only.");
        }

        initializerBytes += raw.Length;
        if (initializerBytes > MaxProtobufBytes)
        {
            throw new NotSupportedException(
                $"The model's weights exceed the 2 GB limit of a single ONNX (protobuf) file; external weight files are not supported by this exporter.");
        }

        var prefix = Path.Length == 0 ? name : Path + "." + name;
        var unique = Reserve(prefix, exact: false, nameof(name));
        initializers.Add(new InitializerData(unique, type, shape, raw));
        return new OnnxValue(unique);
    }

    private string Reserve(string name, bool exact, string paramName)
    {
        if (names.Add(name))
        {
            return name;
        }

        if (exact)
        {
            throw new ArgumentException($"The name '{name}' is already used in this graph.", paramName);
        }

        while (true)
        {
            var candidate = name + "_" + (++counter).ToString(CultureInfo.InvariantCulture);
            if (names.Add(candidate))
            {
                return candidate;
            }
        }
    }

    private Action<ProtoWriter> WriteGraph(string graphName) => graph =>
    {
        foreach (var node in nodes)
        {
            graph.Message(1, node.Write);
        }

        graph.String(2, graphName);
        foreach (var init in initializers)
        {
            graph.Message(5, init.Write);
        }

        foreach (var input in inputs)
        {
            graph.Message(11, input.Write);
        }

        foreach (var output in outputs)
        {
            graph.Message(12, output.Write);
        }
    };

    private sealed record NodeData(string OpType, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes, string Name)
    {
        public void Write(ProtoWriter w)
        {
            foreach (var input in Inputs)
            {
                w.String(1, input);
            }

            foreach (var output in Outputs)
            {
                w.String(2, output);
            }

            w.String(3, Name);
            w.String(4, OpType);
            foreach (var attribute in Attributes)
            {
                w.Message(5, attribute.Write);
            }
        }
    }

    private sealed record InitializerData(string Name, OnnxDataType Type, long[] Shape, byte[] Raw)
    {
        public void Write(ProtoWriter w)
        {
            foreach (var d in Shape)
            {
                w.Varint(1, d);
            }

            w.Varint(2, (int)Type);
            w.String(8, Name);
            w.Bytes(9, Raw);
        }
    }

    private sealed record ValueInfo(string Name, OnnxDataType Type, OnnxDimension[]? Shape)
    {
        public void Write(ProtoWriter w)
        {
            w.String(1, Name);
            w.Message(2, type => type.Message(1, tensor =>
            {
                tensor.Varint(1, (int)Type);
                if (Shape is not null)
                {
                    tensor.Message(2, shape =>
                    {
                        foreach (var d in Shape)
                        {
                            shape.Message(1, dim =>
                            {
                                if (d.Size is { } size)
                                {
                                    dim.Varint(1, size);
                                }
                                else
                                {
                                    dim.String(2, d.Name!);
                                }
                            });
                        }
                    });
                }
            }));
        }
    }

    private sealed class PathScope(List<string> path) : IDisposable
    {
        private readonly int depth = path.Count;
        private bool disposed;

        public void Dispose()
        {
            if (!disposed)
            {
                path.RemoveAt(depth - 1);
                disposed = true;
            }
        }
    }
}
