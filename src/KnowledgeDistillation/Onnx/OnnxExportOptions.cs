namespace KnowledgeDistillation.Onnx;

/// <summary>Settings of <see cref="OnnxExporter"/>.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>The default opset (18: every emitter, graph attention included, is available).</summary>
    public const int DefaultOpset = 18;

    /// <summary>
    /// The shape of one example input, batch dimension first (e.g. <c>[1, 1, 28, 28]</c> for Fashion-MNIST images).
    /// Required: the exporter runs the model once on zeros of this shape to check it, and writes it as the input's shape.
    /// </summary>
    public IReadOnlyList<long> InputShape { get; set; } = Array.Empty<long>();

    /// <summary>The ONNX opset, <see cref="OnnxGraphBuilder.MinOpset"/> to <see cref="OnnxGraphBuilder.MaxOpset"/>; default <see cref="DefaultOpset"/>.</summary>
    public int Opset { get; set; } = DefaultOpset;

    /// <summary>The graph input's name (default <c>input</c>).</summary>
    public string InputName { get; set; } = "input";

    /// <summary>The graph output's name (default <c>output</c>).</summary>
    public string OutputName { get; set; } = "output";

    /// <summary>
    /// Whether the first dimension of the input and output is symbolic (<see cref="BatchDimensionName"/>), so the
    /// exported model runs on any batch size (default <c>true</c>). Models whose emitters need fixed shapes (graph
    /// models over a fixed node set) make the export fail with a message saying why; set <c>false</c> for them.
    /// </summary>
    public bool DynamicBatch { get; set; } = true;

    /// <summary>The name of the symbolic batch dimension (default <c>batch</c>).</summary>
    public string BatchDimensionName { get; set; } = "batch";
}
