namespace KnowledgeDistillation.Onnx;

/// <summary>The ONNX element types the exporter writes (values of <c>TensorProto.DataType</c>).</summary>
public enum OnnxDataType
{
    /// <summary>32-bit IEEE float (ONNX <c>FLOAT</c> = 1).</summary>
    Float = 1,

    /// <summary>64-bit signed integer (ONNX <c>INT64</c> = 7).</summary>
    Int64 = 7,
}
