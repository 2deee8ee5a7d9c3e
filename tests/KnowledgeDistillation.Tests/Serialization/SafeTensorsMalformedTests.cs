using System.Buffers.Binary;
using System.Diagnostics;
using FluentAssertions;
using KnowledgeDistillation.Serialization;
using KnowledgeDistillation.Tests.Data;
using Xunit;
using static KnowledgeDistillation.Tests.Serialization.SafeTensorsTestData;

namespace KnowledgeDistillation.Tests.Serialization;

/// <summary>Malformed files are rejected with an <see cref="InvalidDataException"/> naming the file, the tensor and the problem, in bounded memory.</summary>
public sealed class SafeTensorsMalformedTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string name, byte[] bytes)
    {
        var path = _dir.File(name + ".safetensors");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private void ShouldReject(byte[] bytes, string pattern, string name = "bad")
    {
        var path = Write(name, bytes);
        var act = () => SafeTensorsFile.Open(path).Dispose();
        act.Should().Throw<InvalidDataException>().WithMessage($"Safetensors file '{path}' is invalid: {pattern}");
    }

    [Fact]
    public void Empty_and_short_files_are_rejected()
    {
        ShouldReject(Array.Empty<byte>(), "*0 bytes long*8-byte little-endian header length*", "empty");
        ShouldReject(new byte[] { 1, 2, 3, 4, 5 }, "*5 bytes long*", "short");
    }

    [Theory]
    [InlineData(100UL)]
    [InlineData(1UL << 62)]
    [InlineData(ulong.MaxValue)]
    public void Header_lengths_beyond_the_file_or_the_limit_are_rejected_without_allocating_them(ulong declared)
    {
        var bytes = new byte[8 + 20];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declared);
        "{\"a\":1}"u8.CopyTo(bytes.AsSpan(8));
        var path = Write("huge", bytes);

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var act = () => SafeTensorsFile.Open(path).Dispose();
        var error = act.Should().Throw<InvalidDataException>().Which;
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1));
        (GC.GetAllocatedBytesForCurrentThread() - allocated).Should().BeLessThan(1 << 20, "the declared header length is never allocated");

        error.Message.Should().Contain($"header length is {declared} bytes").And.Contain(path);
        error.Message.Should().Contain(declared > SafeTensorsFile.DefaultMaxHeaderBytes ? "above the limit" : "only 20 bytes follow");
    }

    [Fact]
    public void The_header_limit_can_be_lowered()
    {
        var path = Write("limit", OneTensor("{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}", 1));
        var act = () => SafeTensorsFile.Open(path, maxHeaderBytes: 16).Dispose();
        act.Should().Throw<InvalidDataException>().WithMessage("*above the limit of 16 bytes*");
        var bad = () => SafeTensorsFile.Open(path, maxHeaderBytes: 0);
        bad.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "maxHeaderBytes");
    }

    [Fact]
    public void A_missing_file_is_reported_as_such()
    {
        var act = () => SafeTensorsFile.Open(_dir.File("nope.safetensors"));
        act.Should().Throw<FileNotFoundException>();
    }

    public static TheoryData<string, string, int, string> BadHeaders() => new()
    {
        // case name, header JSON, data bytes, expected message (after the file prefix)
        { "invalid JSON", "{\"t\": {\"dtype\": ", 0, "the header is not valid JSON*" },
        { "not an object", "[1, 2]", 0, "the header must be a JSON object*starts with byte 0x5B*" },
        { "trailing garbage", "{} x", 0, "the header is not valid JSON*" },
        { "too deep", "{\"t\":" + new string('[', 100) + new string(']', 100) + "}", 0, "the header is not valid JSON*" },
        { "entry not an object", "{\"t\": 3}", 0, "tensor 't': its entry must be an object*it is a number*" },
        { "unknown dtype", "{\"t\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 't': unknown dtype 'F33'; expected one of F64, F32*" },
        { "unsupported dtype", "{\"t\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2, "tensor 't': dtype 'U16'*TorchSharp has no element type*" },
        { "dtype not a string", "{\"t\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 't': \"dtype\" must be a string*" },
        { "missing dtype", "{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 't': \"dtype\" is missing*" },
        { "missing offsets", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 't': \"data_offsets\" is missing*" },
        { "repeated field", "{\"t\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 't': \"dtype\" appears more than once*" },
        { "negative shape", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,4]}}", 4, "tensor 't': \"shape\" element 1 is negative (-1)*" },
        { "fractional shape", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,4]}}", 4, "tensor 't': \"shape\" element 0 (2.5) is not an integer*" },
        { "shape beyond int64", "{\"t\":{\"dtype\":\"F32\",\"shape\":[18446744073709551616],\"data_offsets\":[0,4]}}", 4, "tensor 't': \"shape\" element 0 (18446744073709551616) is not an integer*" },
        { "element count overflow", "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, "tensor 't': shape [4294967296, 4294967296] is too large: its element count overflows*" },
        { "byte size overflow", "{\"t\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}", 8, "tensor 't': shape [4611686018427387904] of F64 is too large: its size in bytes overflows*" },
        { "shape not an array", "{\"t\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]}}", 4, "tensor 't': \"shape\" must be an array*" },
        { "too many dimensions", "{\"t\":{\"dtype\":\"U8\",\"shape\":[" + string.Join(",", Enumerable.Repeat(1, 65)) + "],\"data_offsets\":[0,1]}}", 1, "tensor 't': \"shape\" has 65 dimensions; at most 64*" },
        { "one offset", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "tensor 't': \"data_offsets\" must be an array of 2 non-negative integers; it has 1 elements*" },
        { "negative offset", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "tensor 't': \"data_offsets\" element 0 is negative (-4)*" },
        { "begin after end", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4, "tensor 't': \"data_offsets\" [4, 0] begin after they end*" },
        { "offsets out of range", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "tensor 't': \"data_offsets\" [0, 8] are out of range: the data section is 4 bytes long*truncated*" },
        { "size mismatch", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24, "tensor 't': \"data_offsets\" [0, 20] span 20 bytes, but shape [2, 3] of F32 (4 bytes each) needs 24 bytes*" },
        { "duplicate names", "{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, "tensor name 't' appears more than once*" },
        { "overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "tensor 'b': its bytes [4, 12) overlap those of tensor 'a' [0, 8)*" },
        { "empty tensor inside another", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8, "tensor 'b': its bytes [4, 4) overlap those of tensor 'a'*" },
        { "gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "bytes [4, 8) of the data section belong to no tensor (a gap before tensor 'b')*" },
        { "trailing data", "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 6, "the data section is 6 bytes long but the tensors cover only 4 bytes; 2 bytes at the end*" },
        { "metadata not strings", "{\"__metadata__\":{\"epoch\":3}}", 0, "'__metadata__' entry 'epoch' must be a string; it is a number*" },
        { "metadata not an object", "{\"__metadata__\":[]}", 0, "'__metadata__' must be an object of strings; it is an array*" },
        { "metadata twice", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "the header has more than one '__metadata__' entry*" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void Malformed_headers_are_rejected_with_the_problem(string name, string header, int dataBytes, string pattern)
    {
        ShouldReject(Raw(header, new byte[dataBytes]), pattern, string.Concat(name.Split(' ')));
    }

    [Fact]
    public void Truncated_data_is_rejected()
    {
        var full = Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3,4],\"data_offsets\":[0,96]}}", new byte[96]);
        ShouldReject(full[..^10], "tensor 'a': \"data_offsets\" [0, 96] are out of range: the data section is 86 bytes long. The file is truncated*");
    }

    [Fact]
    public void A_truncated_header_is_rejected()
    {
        var full = Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]);
        ShouldReject(full[..20], "the header length is * bytes but only 12 bytes follow the length*");
    }

    [Fact]
    public void Invalid_utf8_in_the_header_is_rejected()
    {
        var header = "{\"\u00e9\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}"u8.ToArray();
        header[3] = 0xFF; // breaks the two-byte sequence of 'é'
        ShouldReject(Raw(header), "the header is not valid UTF-8*");
    }

    [Fact]
    public void Bool_bytes_other_than_0_or_1_are_rejected_on_read()
    {
        var path = Write("bool", Raw("{\"t\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", new byte[] { 1, 0, 2 }));
        using var file = SafeTensorsFile.Open(path);
        var act = () => file.ReadTensor("t").Dispose();
        act.Should().Throw<InvalidDataException>().WithMessage($"Safetensors file '{path}' is invalid: tensor 't': BOOL data must be 0 or 1 in every byte; found 2.");
    }

    [Fact]
    public void A_file_truncated_after_opening_is_reported_on_read()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // the reader holds the file with FileShare.Read, so Windows refuses to truncate it
        }

        var path = Write("shrinks", OneTensor("{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}", 16));
        using var file = SafeTensorsFile.Open(path);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            stream.SetLength(stream.Length - 8);
        }

        var act = () => file.ReadTensor("t").Dispose();
        act.Should().Throw<InvalidDataException>().WithMessage("*tensor 't': the file ended inside its data*");
    }

    [Fact]
    public void Unknown_tensor_names_and_disposed_files_are_reported()
    {
        var path = Write("names", OneTensor("{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}", 1));
        var file = SafeTensorsFile.Open(path);
        var unknown = () => file.ReadTensor("nope");
        unknown.Should().Throw<KeyNotFoundException>().WithMessage($"*'{path}'*'nope'*");
        file.Dispose();
        var disposed = () => file.ReadTensor("t");
        disposed.Should().Throw<ObjectDisposedException>();
    }
}
