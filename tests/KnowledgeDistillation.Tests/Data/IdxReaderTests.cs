using FluentAssertions;
using KnowledgeDistillation.Data;
using TorchSharp;
using Xunit;
using static KnowledgeDistillation.Tests.Data.IdxTestData;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<byte, Array, bool> RoundTripCases()
    {
        var data = new TheoryData<byte, Array, bool>();
        foreach (var gzip in new[] { false, true })
        {
            data.Add(0x08, new byte[] { 0, 1, 127, 128, 200, 255 }, gzip);
            data.Add(0x09, new sbyte[] { -128, -1, 0, 1, 64, 127 }, gzip);
            data.Add(0x0B, new short[] { short.MinValue, -2, 0, 258, 1000, short.MaxValue }, gzip);
            data.Add(0x0C, new[] { int.MinValue, -70000, 0, 1, 0x01020304, int.MaxValue }, gzip);
            data.Add(0x0D, new[] { float.MinValue, -1.5f, 0f, 3.25e-8f, float.Epsilon, float.PositiveInfinity }, gzip);
            data.Add(0x0E, new[] { double.MinValue, -1e300, 0d, Math.PI, double.Epsilon, double.NegativeInfinity }, gzip);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void Round_trips_every_element_type_plain_and_gzip(byte typeCode, Array values, bool gzip)
    {
        var bytes = Encode(typeCode, [2, 3], values);
        var path = _dir.File($"roundtrip-{typeCode:X2}{(gzip ? ".gz" : string.Empty)}");
        File.WriteAllBytes(path, gzip ? Gzip(bytes) : bytes);

        var array = IdxReader.Read(path);

        array.ElementType.Should().Be((IdxElementType)typeCode);
        array.Shape.Should().Equal(2, 3);
        array.Length.Should().Be(6);
        Elements(array).Should().Equal(values.Cast<object>());
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void Reads_non_seekable_streams_plain_and_gzip(byte typeCode, Array values, bool gzip)
    {
        var bytes = Encode(typeCode, [6], values);
        using var stream = new NonSeekableStream(new MemoryStream(gzip ? Gzip(bytes) : bytes));

        var array = IdxReader.Read(stream, "in-memory");

        array.Shape.Should().Equal(6);
        Elements(array).Should().Equal(values.Cast<object>());
    }

    [Fact]
    public void Detects_gzip_by_content_not_by_name()
    {
        var bytes = Encode(0x08, [3], new byte[] { 9, 8, 7 });
        var gzipNamedPlain = _dir.File("looks-plain.idx");
        var plainNamedGzip = _dir.File("looks-compressed.gz");
        File.WriteAllBytes(gzipNamedPlain, Gzip(bytes));
        File.WriteAllBytes(plainNamedGzip, bytes);

        IdxReader.Read(gzipNamedPlain).Bytes.ToArray().Should().Equal(9, 8, 7);
        IdxReader.Read(plainNamedGzip).Bytes.ToArray().Should().Equal(9, 8, 7);
    }

    [Fact]
    public void Reads_a_large_gzip_array_that_needs_the_buffer_to_grow()
    {
        var values = Enumerable.Range(0, 700_000).Select(i => i * 3).ToArray(); // 2.8 MB, above the initial buffer
        var path = _dir.File("large.gz");
        File.WriteAllBytes(path, Gzip(Encode(0x0C, [700, 1000], values)));

        var array = IdxReader.Read(path);

        array.Shape.Should().Equal(700, 1000);
        array.GetElements<int>().ToArray().Should().Equal(values);
    }

    [Fact]
    public void Accepts_zero_sized_dimensions()
    {
        var path = _dir.File("empty");
        File.WriteAllBytes(path, Header(0x0D, 0, 5));

        var array = IdxReader.Read(path);

        array.Shape.Should().Equal(0, 5);
        array.Length.Should().Be(0);
    }

    [Theory]
    [InlineData((byte)0x08, ScalarType.Byte)]
    [InlineData((byte)0x09, ScalarType.Int8)]
    [InlineData((byte)0x0B, ScalarType.Int16)]
    [InlineData((byte)0x0C, ScalarType.Int32)]
    [InlineData((byte)0x0D, ScalarType.Float32)]
    [InlineData((byte)0x0E, ScalarType.Float64)]
    public void Converts_to_a_tensor_with_the_matching_dtype_and_shape(byte typeCode, ScalarType expected)
    {
        var values = Enumerable.Range(0, 6).Select(i => (double)(i * 11)).ToArray();
        var typed = (Array)(typeCode switch
        {
            0x08 => values.Select(v => (byte)v).ToArray(),
            0x09 => values.Select(v => (sbyte)v).ToArray(),
            0x0B => values.Select(v => (short)v).ToArray(),
            0x0C => values.Select(v => (int)v).ToArray(),
            0x0D => values.Select(v => (float)v).ToArray(),
            _ => values,
        });
        using var stream = new MemoryStream(Encode(typeCode, [3, 2], typed));
        var array = IdxReader.Read(stream, "tensor");

        using var t = array.ToTensor();
        using var asDouble = t.to(ScalarType.Float64);
        using var converted = array.ToTensor(ScalarType.Float32);

        t.dtype.Should().Be(expected);
        t.shape.Should().Equal(3, 2);
        asDouble.data<double>().ToArray().Should().Equal(values);
        converted.dtype.Should().Be(ScalarType.Float32);
    }

    [Fact]
    public void Typed_access_requires_the_exact_element_type()
    {
        using var stream = new MemoryStream(Encode(0x09, [2], new sbyte[] { -1, 1 }));
        var array = IdxReader.Read(stream, "sbytes");

        array.GetElements<sbyte>().ToArray().Should().Equal(-1, 1);
        array.Invoking(a => a.Bytes).Should().Throw<InvalidOperationException>().WithMessage("*Int8*");
        array.Invoking(a => a.GetElements<float>()).Should().Throw<InvalidOperationException>();
    }

    public static TheoryData<string, byte[], string> MalformedCases() => new()
    {
        { "empty", [], "*4-byte magic*" },
        { "three-bytes", [0, 0, 8], "*4-byte magic*" },
        { "bad-magic", Concat([1, 0, 8, 1], [0, 0, 0, 1], [5]), "*bad magic number 0x01000801*" },
        { "bad-magic-2", Concat([0, 7, 8, 1], [0, 0, 0, 1], [5]), "*bad magic*" },
        { "gzip-magic-only", [0x1f, 0x8b], "*" },
        { "unknown-type", Concat(Header(0x0A, 1), [5]), "*unknown element type code 0x0A*" },
        { "unknown-type-ff", Concat(Header(0xFF, 1), [5]), "*unknown element type code 0xFF*" },
        { "zero-dims", [0, 0, 8, 0], "*declares 0 dimensions*" },
        { "nine-dims", Concat(Header(0x08, 1, 1, 1, 1, 1, 1, 1, 1, 1), [5]), "*declares 9 dimensions*" },
        { "truncated-header", Concat(Header(0x08, 2, 2, 2)[..12]), "*truncated header*3 dimensions*2 dimension sizes*" },
        { "negative-dim", Concat(Header(0x08, 2, -1), [1, 2]), "*dimension 1 has size 4294967295*" },
        { "overflow", Header(0x0E, 65536, 65536, 65536, 65536), "*more than*elements*" },
        { "truncated-data", Concat(Header(0x0C, 2, 2), new byte[15]), "*truncated data*16 data bytes*only 15*" },
        { "trailing", Concat(Header(0x0B, 3), new byte[6], [1, 2, 3]), "*trailing*" },
    };

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void Malformed_plain_files_are_rejected_with_the_file_name(string name, byte[] content, string pattern)
    {
        var path = _dir.File(name);
        File.WriteAllBytes(path, content);

        FluentActions.Invoking(() => IdxReader.Read(path))
            .Should().Throw<InvalidDataException>()
            .WithMessage($"IDX file '{path}'*")
            .WithMessage(pattern);
    }

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void Malformed_gzip_files_are_rejected_with_the_file_name(string name, byte[] content, string pattern)
    {
        var path = _dir.File(name + ".gz");
        File.WriteAllBytes(path, Gzip(content));

        FluentActions.Invoking(() => IdxReader.Read(path))
            .Should().Throw<InvalidDataException>()
            .WithMessage($"IDX file '{path}'*")
            .WithMessage(pattern);
    }

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void Malformed_non_seekable_streams_are_rejected(string name, byte[] content, string pattern)
    {
        using var stream = new NonSeekableStream(new MemoryStream(content));

        FluentActions.Invoking(() => IdxReader.Read(stream, name))
            .Should().Throw<InvalidDataException>()
            .WithMessage($"IDX file '{name}'*")
            .WithMessage(pattern);
    }

    [Fact]
    public void Corrupt_gzip_is_rejected_with_the_file_name()
    {
        var path = _dir.File("corrupt.gz");
        File.WriteAllBytes(path, Concat([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3], Enumerable.Repeat((byte)0xFF, 64).ToArray()));

        FluentActions.Invoking(() => IdxReader.Read(path))
            .Should().Throw<InvalidDataException>().WithMessage($"IDX file '{path}'*");
    }

    [Fact]
    public void Truncated_gzip_is_rejected_with_the_file_name()
    {
        var values = Enumerable.Range(0, 4000).Select(i => (byte)(i * 31)).ToArray();
        var gz = Gzip(Encode(0x08, [4000], values));
        var path = _dir.File("cut.gz");
        File.WriteAllBytes(path, gz[..(gz.Length / 2)]);

        FluentActions.Invoking(() => IdxReader.Read(path))
            .Should().Throw<InvalidDataException>().WithMessage($"IDX file '{path}'*");
    }

    [Fact]
    public void A_gzip_checksum_mismatch_is_rejected_with_the_file_name()
    {
        var gz = Gzip(Encode(0x08, [4], new byte[] { 1, 2, 3, 4 }));
        gz[^8] ^= 0xFF; // first byte of the CRC-32 trailer
        var path = _dir.File("bad-crc.gz");
        File.WriteAllBytes(path, gz);

        FluentActions.Invoking(() => IdxReader.Read(path))
            .Should().Throw<InvalidDataException>().WithMessage($"IDX file '{path}' is invalid: corrupt gzip data*");
    }

    [Fact]
    public void A_gzip_file_without_its_trailer_is_rejected()
    {
        // .NET's GZipStream returns all the data of a stream that stops right before its CRC-32/length trailer.
        var gz = Gzip(Encode(0x08, [4], new byte[] { 1, 2, 3, 4 }));
        foreach (var cut in new[] { 8, 4 })
        {
            var path = _dir.File($"no-trailer-{cut}.gz");
            File.WriteAllBytes(path, gz[..^cut]);

            FluentActions.Invoking(() => IdxReader.Read(path))
                .Should().Throw<InvalidDataException>().WithMessage($"IDX file '{path}' is invalid: the gzip trailer is missing*CRC-32*");
            using var stream = new NonSeekableStream(new MemoryStream(gz[..^cut]));
            FluentActions.Invoking(() => IdxReader.Read(stream, "in-memory"))
                .Should().Throw<InvalidDataException>().WithMessage("IDX file 'in-memory' is invalid: the gzip trailer is missing*");
        }
    }

    [Fact]
    public void Bytes_after_the_gzip_stream_are_rejected()
    {
        // .NET's GZipStream (like gzip -d) ignores bytes after the trailer that do not start another gzip member.
        var gz = Gzip(Encode(0x08, [4], new byte[] { 1, 2, 3, 4 }));
        foreach (var junk in new[] { 1, 5, 100_000 })
        {
            var path = _dir.File($"junk-{junk}.gz");
            File.WriteAllBytes(path, Concat(gz, Enumerable.Repeat((byte)0x5A, junk).ToArray()));

            FluentActions.Invoking(() => IdxReader.Read(path))
                .Should().Throw<InvalidDataException>().WithMessage($"IDX file '{path}' is invalid: *gzip*trailer*");
        }
    }

    [Fact]
    public void A_declared_size_above_the_limit_is_rejected_before_reading()
    {
        var path = _dir.File("limited");
        File.WriteAllBytes(path, Concat(Header(0x0D, 10, 10), new byte[400]));

        FluentActions.Invoking(() => IdxReader.Read(path, maxDataBytes: 399))
            .Should().Throw<InvalidDataException>().WithMessage("*[10, 10] Float32, more than 99 elements*");
        IdxReader.Read(path, maxDataBytes: 400).Length.Should().Be(100);
    }

    [Fact]
    public void A_huge_declared_size_does_not_allocate_before_the_data_arrives()
    {
        // Declares 2,000,000,000 bytes but carries 10: gzip and non-seekable input cannot be length-checked up front.
        var lie = Concat(Header(0x08, 2_000_000_000), new byte[10]);
        foreach (var content in new[] { Gzip(lie), lie })
        {
            using var stream = new NonSeekableStream(new MemoryStream(content));
            var before = GC.GetAllocatedBytesForCurrentThread();

            FluentActions.Invoking(() => IdxReader.Read(stream, "liar"))
                .Should().Throw<InvalidDataException>().WithMessage("*truncated data*2000000000 data bytes*only 10*");

            (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(8L << 20);
        }
    }

    [Fact]
    public void Plain_files_are_length_checked_before_allocating()
    {
        var path = _dir.File("liar");
        File.WriteAllBytes(path, Concat(Header(0x0E, 200_000_000), new byte[16]));
        var before = GC.GetAllocatedBytesForCurrentThread();

        FluentActions.Invoking(() => IdxReader.Read(path))
            .Should().Throw<InvalidDataException>().WithMessage("*1600000000 data bytes*only 16*");

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(1L << 20);
    }

    [Fact]
    public void Arguments_are_checked()
    {
        FluentActions.Invoking(() => IdxReader.Read(" ")).Should().Throw<ArgumentException>().WithParameterName("path");
        FluentActions.Invoking(() => IdxReader.Read(_dir.File("missing"))).Should().Throw<FileNotFoundException>();
        FluentActions.Invoking(() => IdxReader.Read(new MemoryStream(), "x", maxDataBytes: 0))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("maxDataBytes");
        FluentActions.Invoking(() => IdxReader.Read(new MemoryStream(), ""))
            .Should().Throw<ArgumentException>().WithParameterName("sourceName");
    }

    private static IEnumerable<object> Elements(IdxArray array) => array.ElementType switch
    {
        IdxElementType.UInt8 => array.Bytes.ToArray().Cast<object>(),
        IdxElementType.Int8 => array.GetElements<sbyte>().ToArray().Cast<object>(),
        IdxElementType.Int16 => array.GetElements<short>().ToArray().Cast<object>(),
        IdxElementType.Int32 => array.GetElements<int>().ToArray().Cast<object>(),
        IdxElementType.Float32 => array.GetElements<float>().ToArray().Cast<object>(),
        _ => array.GetElements<double>().ToArray().Cast<object>(),
    };
}
