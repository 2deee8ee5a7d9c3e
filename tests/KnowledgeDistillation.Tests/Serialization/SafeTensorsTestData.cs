using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Serialization;

/// <summary>The committed PyTorch fixture, a raw safetensors encoder independent of the library's writer, and element-wise checks.</summary>
internal static class SafeTensorsTestData
{
    public static string FixturePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch_fixture.safetensors");

    public static JsonDocument Expected() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch_fixture.json")));

    /// <summary>An 8-byte little-endian length, the header text as it is (no padding), then the data bytes.</summary>
    public static byte[] Raw(string header, byte[]? data = null) => Raw(Encoding.UTF8.GetBytes(header), data);

    public static byte[] Raw(byte[] header, byte[]? data = null)
    {
        var bytes = new byte[8 + header.Length + (data?.Length ?? 0)];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data?.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>A one-tensor file whose header entry is <paramref name="entry"/>, followed by <paramref name="dataBytes"/> zero bytes.</summary>
    public static byte[] OneTensor(string entry, int dataBytes) => Raw($"{{\"t\":{entry}}}", new byte[dataBytes]);

    public static ScalarType ScalarTypeOf(string code) => code switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new ArgumentException($"Unknown dtype {code}."),
    };

    /// <summary>Checks dtype, shape and every element of <paramref name="actual"/> against a fixture entry; floats bit for bit (any NaN matches NaN).</summary>
    public static void ShouldMatch(Tensor actual, JsonElement expected, string because)
    {
        var code = expected.GetProperty("dtype").GetString()!;
        actual.dtype.Should().Be(ScalarTypeOf(code), because);
        actual.shape.Should().Equal(expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), because);
        var values = expected.GetProperty("values").EnumerateArray().ToArray();
        actual.numel().Should().Be(values.Length, because);
        switch (code)
        {
            case "BOOL":
                Flat<bool>(actual).Should().Equal(values.Select(v => v.GetBoolean()), because);
                break;
            case "U8" or "I8" or "I16" or "I32" or "I64":
                using (var wide = actual.to_type(ScalarType.Int64))
                {
                    Flat<long>(wide).Should().Equal(values.Select(v => v.GetInt64()), because);
                }

                break;
            default:
                // Float16, BFloat16 and Float32 widen to Float64 exactly.
                using (var wide = actual.to_type(ScalarType.Float64))
                {
                    var got = Flat<double>(wide);
                    for (var i = 0; i < got.Length; i++)
                    {
                        var want = Number(values[i]);
                        if (double.IsNaN(want))
                        {
                            double.IsNaN(got[i]).Should().BeTrue($"{because}, element {i}");
                        }
                        else
                        {
                            BitConverter.DoubleToInt64Bits(got[i]).Should().Be(BitConverter.DoubleToInt64Bits(want), $"{because}, element {i} = {want:R}, got {got[i]:R}");
                        }
                    }
                }

                break;
        }
    }

    /// <summary>The elements in row-major order (TorchSharp's accessor does not flatten scalars or empty tensors itself).</summary>
    public static T[] Flat<T>(Tensor t)
        where T : unmanaged
    {
        if (t.numel() == 0)
        {
            return Array.Empty<T>();
        }

        using var flat = t.reshape(-1);
        return flat.data<T>().ToArray();
    }

    public static double Number(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? value.GetString() switch
        {
            "nan" => double.NaN,
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            var s => throw new FormatException($"Unexpected value '{s}'."),
        }
        : value.GetDouble();

    public static float[] Floats(JsonElement values) => values.EnumerateArray().Select(v => (float)Number(v)).ToArray();

    public static long[] Shape(JsonElement shape) => shape.EnumerateArray().Select(e => e.GetInt64()).ToArray();
}
