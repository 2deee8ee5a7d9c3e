namespace KnowledgeDistillation.Onnx;

/// <summary>A value (tensor) of an ONNX graph under construction, identified by its unique name in the graph.</summary>
/// <param name="Name">The value's name in the graph.</param>
public readonly record struct OnnxValue(string Name)
{
    /// <inheritdoc />
    public override string ToString() => Name;
}
