using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using KnowledgeDistillation.Serialization;
using KnowledgeDistillation.Tests.Data;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Serialization;

/// <summary>Writing safetensors from C#: round trips, the reference layout, atomic replacement and bad input.</summary>
public sealed class SafeTensorsWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static Dictionary<string, Tensor> EveryDType()
    {
        var floats = new[] { -0f, 1e-45f, float.PositiveInfinity, float.NaN, float.MaxValue, -1.5f };
        return new Dictionary<string, Tensor>
        {
            ["f64"] = tensor(new[] { Math.PI, -1e300, double.Epsilon, 0 }, new long[] { 2, 2 }),
            ["f32"] = tensor(floats, new long[] { 2, 3 }),
            ["f16"] = tensor(new[] { 0.5f, -65504f, 1f / 3 }).to_type(ScalarType.Float16),
            ["bf16"] = tensor(new[] { 1f, -2.5f, 3e38f }).to_type(ScalarType.BFloat16),
            ["i64"] = tensor(new[] { long.MinValue, long.MaxValue, (1L << 62) + 1 }),
            ["i32"] = tensor(new[] { int.MinValue, 0, int.MaxValue }),
            ["i16"] = tensor(new short[] { short.MinValue, -1, short.MaxValue }),
            ["i8"] = tensor(new sbyte[] { -128, 0, 127 }),
            ["u8"] = tensor(new byte[] { 0, 128, 255 }),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(42.5f),
            ["empty"] = zeros(0, 3),
            ["transposed"] = arange(6, ScalarType.Float32).reshape(2, 3).t(),
            ["param"] = new TorchSharp.Modules.Parameter(ones(2, 2)),
        };
    }

    private static void DisposeAll(Dictionary<string, Tensor> tensors)
    {
        foreach (var t in tensors.Values)
        {
            t.Dispose();
        }
    }

    [Fact]
    public void Round_trips_every_dtype_and_shape_bit_for_bit()
    {
        var path = _dir.File("all.safetensors");
        var tensors = EveryDType();
        try
        {
            SafeTensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["note"] = "ünïcode ✓", ["format"] = "pt" });
            using var file = SafeTensorsFile.Open(path);
            file.Metadata.Should().BeEquivalentTo(new Dictionary<string, string> { ["note"] = "ünïcode ✓", ["format"] = "pt" });
            foreach (var (name, original) in tensors)
            {
                using var back = file.ReadTensor(name);
                back.dtype.Should().Be(original.dtype, name);
                back.shape.Should().Equal(original.shape, name);
                using var a = back.contiguous();
                using var b = original.detach().contiguous();
                a.bytes.ToArray().Should().Equal(b.bytes.ToArray(), name);
            }
        }
        finally
        {
            DisposeAll(tensors);
        }
    }

    [Fact]
    public void Lays_out_the_file_as_the_reference_implementation()
    {
        var path = _dir.File("layout.safetensors");
        var tensors = EveryDType();
        try
        {
            SafeTensorsWriter.Write(path, tensors);
        }
        finally
        {
            DisposeAll(tensors);
        }

        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ((8 + headerLength) % 8).Should().Be(0, "the data section starts 8-byte aligned");
        var header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        header.TrimEnd(' ').Should().EndWith("}", "padding is spaces after the JSON object");
        header.Should().NotContain("__metadata__", "no metadata was given");

        using var json = JsonDocument.Parse(header);
        var names = json.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        names.Should().Equal("f64", "i64", "empty", "f32", "i32", "param", "scalar", "transposed", "bf16", "f16", "i16", "bool", "i8", "u8");
        using var file = SafeTensorsFile.Open(path);
        file.Tensors.Select(t => t.Name).Should().Equal(names, "the header lists tensors in data order");
        file.Tensors.Where(t => t.ElementCount > 0).Should().OnlyContain(t => t.DataOffset % (t.ByteLength / t.ElementCount) == 0, "each tensor is aligned to its element size");
    }

    [Fact]
    public void Replaces_an_existing_file_and_leaves_no_temporary_files()
    {
        var path = _dir.File("replace.safetensors");
        File.WriteAllText(path, "old content");
        using var t = ones(3);

        SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["x"] = t });

        using var file = SafeTensorsFile.Open(path);
        file.Tensors.Should().ContainSingle(i => i.Name == "x");
        Directory.GetFiles(_dir.Path).Should().Equal(path);
    }

    [Fact]
    public void A_failed_write_keeps_the_old_file()
    {
        var path = _dir.File("keep.safetensors");
        File.WriteAllText(path, "old content");
        using var complex = zeros(2, ScalarType.ComplexFloat32);

        var act = () => SafeTensorsWriter.Write(path, new Dictionary<string, Tensor> { ["c"] = complex });

        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "tensors").WithMessage("*'c'*ComplexFloat32*");
        File.ReadAllText(path).Should().Be("old content");
        Directory.GetFiles(_dir.Path).Should().Equal(path);
    }

    [Fact]
    public void Rejects_repeated_reserved_and_empty_names()
    {
        using var t = ones(1);
        var path = _dir.File("bad.safetensors");
        var repeated = () => SafeTensorsWriter.Write(path, new[] { KeyValuePair.Create("a", t), KeyValuePair.Create("a", t) });
        repeated.Should().Throw<ArgumentException>().Where(e => e.ParamName == "tensors").WithMessage("*'a' appears more than once*");
        var reserved = () => SafeTensorsWriter.Write(path, new[] { KeyValuePair.Create("__metadata__", t) });
        reserved.Should().Throw<ArgumentException>().WithMessage("*reserved*");
        var empty = () => SafeTensorsWriter.Write(path, new[] { KeyValuePair.Create(string.Empty, t) });
        empty.Should().Throw<ArgumentException>().WithMessage("*non-empty*");
        File.Exists(path).Should().BeFalse();
    }
}
