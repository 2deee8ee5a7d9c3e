namespace KnowledgeDistillation.Data;

/// <summary>The element types of the IDX format; each value is the type code stored in byte 2 of the magic number.</summary>
public enum IdxElementType : byte
{
    /// <summary>Unsigned byte (code 0x08), as used by MNIST images and labels.</summary>
    UInt8 = 0x08,

    /// <summary>Signed byte (code 0x09).</summary>
    Int8 = 0x09,

    /// <summary>Big-endian 16-bit signed integer (code 0x0B).</summary>
    Int16 = 0x0B,

    /// <summary>Big-endian 32-bit signed integer (code 0x0C).</summary>
    Int32 = 0x0C,

    /// <summary>Big-endian IEEE 754 single-precision float (code 0x0D).</summary>
    Float32 = 0x0D,

    /// <summary>Big-endian IEEE 754 double-precision float (code 0x0E).</summary>
    Float64 = 0x0E,
}
