namespace KnowledgeDistillation.Onnx;

/// <summary>A module (or a setting of one) that the ONNX exporter cannot translate, named by its path in the module tree.</summary>
public sealed class OnnxExportException : NotSupportedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="layerPath">The layer's path in the module tree (<c>features.block1.conv</c>); empty for the root module.</param>
    /// <param name="layerType">The layer's .NET type name.</param>
    /// <param name="reason">Why it cannot be exported.</param>
    public OnnxExportException(string layerPath, string layerType, string reason)
        : base($"Cannot export layer '{(layerPath.Length == 0 ? "<root>" : layerPath)}' ({layerType}) to ONNX: {reason}")
    {
        LayerPath = layerPath;
        LayerType = layerType;
    }

    /// <summary>The layer's path in the module tree; empty for the root module.</summary>
    public string LayerPath { get; }

    /// <summary>The layer's .NET type name.</summary>
    public string LayerType { get; }
}
