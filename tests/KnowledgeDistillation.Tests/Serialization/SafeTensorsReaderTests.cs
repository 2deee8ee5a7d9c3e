using FluentAssertions;
using KnowledgeDistillation.Serialization;
using KnowledgeDistillation.Tests.Data;
using Xunit;
using static KnowledgeDistillation.Tests.Serialization.SafeTensorsTestData;

namespace KnowledgeDistillation.Tests.Serialization;

/// <summary>Valid files that other writers may produce: unaligned offsets, shared offsets of empty tensors, extra fields.</summary>
public sealed class SafeTensorsReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, byte[] bytes)
    {
        var path = _dir.File(name + ".safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Reads_tensors_at_unaligned_offsets()
    {
        var data = new byte[] { 7, 0, 0, 0xC0, 0x3F, 0x01, 0x02 }; // U8 7, F32 1.5 at offset 1, I16 0x0201 at offset 5
        var path = Write("unaligned", Raw(
            "{\"b\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[1,5]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}," +
            "\"c\":{\"dtype\":\"I16\",\"shape\":[1,1],\"data_offsets\":[5,7]}}", data));

        using var file = SafeTensorsFile.Open(path);
        file.Tensors.Select(t => t.Name).Should().Equal("a", "b", "c");
        using var a = file.ReadTensor("a");
        using var b = file.ReadTensor("b");
        using var c = file.ReadTensor("c");
        Flat<byte>(a).Should().Equal(7);
        b.shape.Should().BeEmpty();
        b.item<float>().Should().Be(1.5f);
        Flat<short>(c).Should().Equal(0x0201);
    }

    [Fact]
    public void Accepts_empty_tensors_sharing_an_offset_extra_fields_and_trailing_spaces()
    {
        var path = Write("edge", Raw(
            "{\"e1\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[4,4],\"note\":\"ignored\"}," +
            "\"e2\":{\"dtype\":\"BOOL\",\"shape\":[0],\"data_offsets\":[4,4]}," +
            "\"x\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}," +
            "\"__metadata__\":{}}   ", new byte[] { 1, 0, 0, 0 }));

        using var file = SafeTensorsFile.Open(path);
        file.Tensors.Should().HaveCount(3);
        using var e1 = file.ReadTensor("e1");
        e1.shape.Should().Equal(0, 3);
        using var e2 = file.ReadTensor("e2");
        e2.dtype.Should().Be(TorchSharp.torch.ScalarType.Bool);
        using var x = file.ReadTensor("x");
        x.item<int>().Should().Be(1);
    }

    [Fact]
    public void Empty_tensors_may_have_huge_sizes_only_when_their_strides_fit()
    {
        var fits = Write("fits", Raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[0,4611686018427387904],\"data_offsets\":[0,0]}}"));
        using (var file = SafeTensorsFile.Open(fits))
        {
            file.GetInfo("t").ElementCount.Should().Be(0);
            using var t = file.ReadTensor("t");
            t.shape.Should().Equal(0, 4611686018427387904);
        }

        var overflows = Write("overflows", Raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[0,4294967296,4294967296],\"data_offsets\":[0,0]}}"));
        var act = () => SafeTensorsFile.Open(overflows).Dispose();
        act.Should().Throw<InvalidDataException>().WithMessage("*tensor 't': shape [0, 4294967296, 4294967296] is too large*");
    }

    [Fact]
    public void An_empty_header_object_is_a_valid_file_with_no_tensors()
    {
        var path = Write("none", Raw("{}      "));
        using var file = SafeTensorsFile.Open(path);
        file.Tensors.Should().BeEmpty();
        file.Metadata.Should().BeEmpty();
        file.Contains("x").Should().BeFalse();
    }
}
