namespace KnowledgeDistillation.Serialization;

/// <summary>
/// The element types of the safetensors format that TorchSharp can hold. Each member documents its code
/// in the file header (the <c>"dtype"</c> field). All data is little-endian.
/// </summary>
public enum SafeTensorsDType
{
    /// <summary><c>BOOL</c>: one byte per element, 0 or 1 (<see cref="TorchSharp.torch.ScalarType.Bool"/>).</summary>
    Bool,

    /// <summary><c>U8</c>: unsigned 8-bit integer (<see cref="TorchSharp.torch.ScalarType.Byte"/>).</summary>
    UInt8,

    /// <summary><c>I8</c>: signed 8-bit integer (<see cref="TorchSharp.torch.ScalarType.Int8"/>).</summary>
    Int8,

    /// <summary><c>I16</c>: signed 16-bit integer (<see cref="TorchSharp.torch.ScalarType.Int16"/>).</summary>
    Int16,

    /// <summary><c>I32</c>: signed 32-bit integer (<see cref="TorchSharp.torch.ScalarType.Int32"/>).</summary>
    Int32,

    /// <summary><c>I64</c>: signed 64-bit integer (<see cref="TorchSharp.torch.ScalarType.Int64"/>).</summary>
    Int64,

    /// <summary><c>F16</c>: IEEE 754 half precision (<see cref="TorchSharp.torch.ScalarType.Float16"/>).</summary>
    Float16,

    /// <summary><c>BF16</c>: bfloat16 (<see cref="TorchSharp.torch.ScalarType.BFloat16"/>).</summary>
    BFloat16,

    /// <summary><c>F32</c>: IEEE 754 single precision (<see cref="TorchSharp.torch.ScalarType.Float32"/>).</summary>
    Float32,

    /// <summary><c>F64</c>: IEEE 754 double precision (<see cref="TorchSharp.torch.ScalarType.Float64"/>).</summary>
    Float64,
}
