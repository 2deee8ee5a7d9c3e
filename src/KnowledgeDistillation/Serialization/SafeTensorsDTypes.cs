using static TorchSharp.torch;

namespace KnowledgeDistillation.Serialization;

/// <summary>Header codes, element sizes and TorchSharp equivalents of <see cref="SafeTensorsDType"/>.</summary>
internal static class SafeTensorsDTypes
{
    /// <summary>Codes that the safetensors format defines but TorchSharp has no element type for.</summary>
    private static readonly HashSet<string> UnsupportedCodes = new(StringComparer.Ordinal)
    {
        "U16", "U32", "U64", "C64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",
    };

    public const string SupportedList = "F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL";

    public static string Code(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.Bool => "BOOL",
        SafeTensorsDType.UInt8 => "U8",
        SafeTensorsDType.Int8 => "I8",
        SafeTensorsDType.Int16 => "I16",
        SafeTensorsDType.Int32 => "I32",
        SafeTensorsDType.Int64 => "I64",
        SafeTensorsDType.Float16 => "F16",
        SafeTensorsDType.BFloat16 => "BF16",
        SafeTensorsDType.Float32 => "F32",
        SafeTensorsDType.Float64 => "F64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>Parses a header code; returns null and an explanation when the code is unknown or unsupported.</summary>
    public static SafeTensorsDType? Parse(string code, out string problem)
    {
        problem = string.Empty;
        switch (code)
        {
            case "BOOL": return SafeTensorsDType.Bool;
            case "U8": return SafeTensorsDType.UInt8;
            case "I8": return SafeTensorsDType.Int8;
            case "I16": return SafeTensorsDType.Int16;
            case "I32": return SafeTensorsDType.Int32;
            case "I64": return SafeTensorsDType.Int64;
            case "F16": return SafeTensorsDType.Float16;
            case "BF16": return SafeTensorsDType.BFloat16;
            case "F32": return SafeTensorsDType.Float32;
            case "F64": return SafeTensorsDType.Float64;
        }

        problem = UnsupportedCodes.Contains(code)
            ? $"dtype '{code}' is a safetensors dtype that TorchSharp has no element type for; supported: {SupportedList}"
            : $"unknown dtype '{code}'; expected one of {SupportedList}";
        return null;
    }

    public static int ElementSize(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.Bool or SafeTensorsDType.UInt8 or SafeTensorsDType.Int8 => 1,
        SafeTensorsDType.Int16 or SafeTensorsDType.Float16 or SafeTensorsDType.BFloat16 => 2,
        SafeTensorsDType.Int32 or SafeTensorsDType.Float32 => 4,
        SafeTensorsDType.Int64 or SafeTensorsDType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    public static ScalarType ToScalarType(SafeTensorsDType dtype) => dtype switch
    {
        SafeTensorsDType.Bool => ScalarType.Bool,
        SafeTensorsDType.UInt8 => ScalarType.Byte,
        SafeTensorsDType.Int8 => ScalarType.Int8,
        SafeTensorsDType.Int16 => ScalarType.Int16,
        SafeTensorsDType.Int32 => ScalarType.Int32,
        SafeTensorsDType.Int64 => ScalarType.Int64,
        SafeTensorsDType.Float16 => ScalarType.Float16,
        SafeTensorsDType.BFloat16 => ScalarType.BFloat16,
        SafeTensorsDType.Float32 => ScalarType.Float32,
        SafeTensorsDType.Float64 => ScalarType.Float64,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Not a safetensors dtype."),
    };

    /// <summary>The safetensors dtype of a TorchSharp element type, or null when the format has none (complex, quantized).</summary>
    public static SafeTensorsDType? FromScalarType(ScalarType type) => type switch
    {
        ScalarType.Bool => SafeTensorsDType.Bool,
        ScalarType.Byte => SafeTensorsDType.UInt8,
        ScalarType.Int8 => SafeTensorsDType.Int8,
        ScalarType.Int16 => SafeTensorsDType.Int16,
        ScalarType.Int32 => SafeTensorsDType.Int32,
        ScalarType.Int64 => SafeTensorsDType.Int64,
        ScalarType.Float16 => SafeTensorsDType.Float16,
        ScalarType.BFloat16 => SafeTensorsDType.BFloat16,
        ScalarType.Float32 => SafeTensorsDType.Float32,
        ScalarType.Float64 => SafeTensorsDType.Float64,
        _ => null,
    };

    public static bool IsFloatingPoint(SafeTensorsDType dtype) =>
        dtype is SafeTensorsDType.Float16 or SafeTensorsDType.BFloat16 or SafeTensorsDType.Float32 or SafeTensorsDType.Float64;
}
