using System.Text;
using FluentAssertions;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Caching;

/// <summary>
/// Issue 22: a disk sample store (and the disk teacher cache on it) whose file was altered raises one
/// <see cref="InvalidDataException"/> naming the file and the part that is wrong, never another exception and never
/// serves altered rows. Layout (format 2): magic (8), JSON length (8), JSON CRC (4), JSON, padding to 4096; per field
/// rows; one CRC per sample; one "written" byte per sample.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class DiskStoreIntegrityTests : IDisposable
{
    private const int HeaderSize = 4096;
    private const int JsonStart = 20;
    private const int Count = 4;
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-integrity-").FullName;

    private static readonly SampleField[] Fields =
    {
        new("logits", new long[] { 3 }),
        new("map", new long[] { 2, 2 }, ScalarType.Float64),
    };

    // logits rows (4 x 12 bytes), map rows (4 x 32 bytes), checksums (4 x 4), flags (4).
    private const int ChecksumOffset = HeaderSize + (Count * 12) + (Count * 32);
    private const int FlagOffset = ChecksumOffset + (Count * 4);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_flipped_byte_in_a_row_is_reported_on_read_naming_the_file_and_the_sample()
    {
        var path = WriteStore();
        Alter(path, HeaderSize + (2 * 12) + 1, b => (byte)(b ^ 0x40)); // logits of sample 2

        using var scope = NewDisposeScope();
        using var store = new DiskSampleStore(path, Count, "t");
        store.Read(tensor(new long[] { 0, 1, 3 }), CPU).Should().HaveCount(2, "the other samples are intact");
        FluentActions.Invoking(() => store.Read(tensor(new long[] { 1, 2 }), CPU))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*sample 2 *checksum*");
    }

    [Fact]
    public void A_flipped_byte_in_a_float64_row_or_a_stored_checksum_is_reported_too()
    {
        var path = WriteStore();
        Alter(path, HeaderSize + (Count * 12) + (3 * 32) + 31, b => (byte)(b ^ 0x01)); // last byte of map row of sample 3
        Alter(path, ChecksumOffset + 4, b => (byte)(b ^ 0x80)); // checksum of sample 1

        using var scope = NewDisposeScope();
        using var store = new DiskSampleStore(path, Count, "t");
        FluentActions.Invoking(() => store.Read(tensor(new long[] { 3 }), CPU)).Should().Throw<InvalidDataException>().WithMessage("*sample 3 *");
        FluentActions.Invoking(() => store.Read(tensor(new long[] { 1 }), CPU)).Should().Throw<InvalidDataException>().WithMessage("*sample 1 *");
    }

    [Fact]
    public void A_disk_teacher_cache_never_serves_altered_logits()
    {
        using var data = SyntheticData.Blobs(8, seed: 7);
        using var teacherNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        var options = new TeacherCacheOptions { Storage = TeacherCacheStorage.Disk, FilePath = Path.Combine(_directory, "t.cache") };
        var loader = new DataLoader(data, 8, shuffle: false);
        using var noGrad = no_grad();
        using (var cache = Teacher.FromModule(teacherNet).WithOutputCache(8, options))
        {
            cache.Forward(loader.GetBatches(0, CPU).Single());
        }

        Alter(options.FilePath, HeaderSize + (5 * 3 * sizeof(float)) + 2, b => (byte)(b ^ 0x10)); // logits of sample 5

        using var reopened = Teacher.FromModule(teacherNet).WithOutputCache(8, options);
        reopened.CachedSamples.Should().Be(8);
        FluentActions.Invoking(() => reopened.Forward(loader.GetBatches(1, CPU).Single()))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{options.FilePath}'*sample 5 *checksum*");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(255)]
    public void A_written_flag_other_than_0_or_1_is_corruption(byte flag)
    {
        var path = WriteStore();
        Alter(path, FlagOffset + 1, _ => flag);
        FluentActions.Invoking(() => new DiskSampleStore(path, Count, "t"))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*\"written\" flag of sample 1 is {flag}; expected 0 or 1*");
    }

    [Fact]
    public void A_header_longer_than_the_file_is_corruption_not_end_of_stream()
    {
        var path = WriteStore();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(JsonStart + 10)]); // the JSON's length now points past the end
        FluentActions.Invoking(() => new DiskSampleStore(path, Count, "t"))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*{JsonStart + 10} bytes*{HeaderSize}-byte header*truncated*");

        File.WriteAllBytes(path, bytes);
        BitConverter.GetBytes(5000L).CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        FluentActions.Invoking(() => new DiskSampleStore(path, Count, "t"))
            .Should().Throw<InvalidDataException>().WithMessage("*header length is 5000; expected 1..4076*");
    }

    [Fact]
    public void A_renamed_header_member_is_named()
    {
        var path = WriteStore();
        ReplaceInHeader(path, "\"RowShape\"", "\"RowShapz\"");
        FluentActions.Invoking(() => new DiskSampleStore(path, Count, "t"))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*header*RowShapz*");
    }

    [Fact]
    public void A_field_shape_whose_region_exceeds_the_file_names_the_field()
    {
        var path = WriteStore();
        ReplaceInHeader(path, "[2,2]", "[2,9]");
        FluentActions.Invoking(() => new DiskSampleStore(path, Count, "t"))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*field 1 ('map [2, 9] Float64')*exceeds the file's*");

        ReplaceInHeader(path, "[2,9]", "[9999999999]"); // would overflow a naive size computation
        FluentActions.Invoking(() => new DiskSampleStore(path, Count, "t"))
            .Should().Throw<InvalidDataException>().WithMessage("*field 1 ('map [9999999999] Float64')*exceeds*");
    }

    [Fact]
    public void A_renamed_field_or_altered_tag_fails_the_header_checksum()
    {
        var path = WriteStore();
        ReplaceInHeader(path, "\"logits\"", "\"logitz\"");
        FluentActions.Invoking(() => new DiskSampleStore(path, Count, "t"))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*header does not match its checksum*");

        var other = WriteStore("other.store", tag: "aaaa");
        ReplaceInHeader(other, "\"aaaa\"", "\"aaab\"");
        FluentActions.Invoking(() => new DiskSampleStore(other, Count, "aaab"))
            .Should().Throw<InvalidDataException>("an altered tag is corruption, not another model's store").WithMessage("*checksum*");
    }

    [Fact]
    public void A_format_1_store_is_refused_as_outdated()
    {
        var path = WriteStore();
        Alter(path, 7, _ => (byte)'E'); // KDSAMPL2 -> KDSAMPLE
        FluentActions.Invoking(() => new DiskSampleStore(path, Count, "t"))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{path}'*format-1*format 2*Delete the file*");
    }

    [Fact]
    public void A_teacher_cache_whose_store_holds_other_fields_is_refused_naming_the_field()
    {
        using var scope = NewDisposeScope();
        using var data = SyntheticData.Blobs(8, seed: 8);
        using var teacherNet = new Mlp(8, Array.Empty<int>(), numClasses: 3);
        var options = new TeacherCacheOptions { Storage = TeacherCacheStorage.Disk, FilePath = Path.Combine(_directory, "foreign.cache") };
        string fingerprint;
        using (var probe = Teacher.FromModule(teacherNet).WithOutputCache(8))
        {
            fingerprint = probe.TeacherFingerprint;
        }

        // A valid store with the teacher's tag but fields a teacher cache never writes (here: a short name).
        using (var store = new DiskSampleStore(options.FilePath, 8, fingerprint))
        {
            store.Initialize(new[] { new SampleField("lg", new long[] { 3 }), new SampleField("input-fingerprint", new long[] { 2 }, ScalarType.Float64) });
            store.Write(arange(8L), new[] { zeros(8, 3), zeros(8, 2, ScalarType.Float64) });
        }

        FluentActions.Invoking(() => Teacher.FromModule(teacherNet).WithOutputCache(8, options))
            .Should().Throw<InvalidDataException>().WithMessage($"*'{options.FilePath}'*field 0 'lg [3] Float32'*expected 'logits'*");
    }

    [Fact]
    public void Every_single_byte_alteration_of_a_full_store_is_invalid_data_on_open_or_read()
    {
        var path = WriteStore();
        var original = File.ReadAllBytes(path);
        var jsonEnd = JsonStart + (int)BitConverter.ToInt64(original, 8);
        var positions = Enumerable.Range(0, jsonEnd).Concat(Enumerable.Range(HeaderSize, original.Length - HeaderSize));
        using var scope = NewDisposeScope();
        using var all = arange((long)Count);
        foreach (var position in positions)
        {
            var altered = original.ToArray();
            altered[position] ^= 0xFF;
            File.WriteAllBytes(path, altered);
            var act = () =>
            {
                using var store = new DiskSampleStore(path, Count, "t");
                store.Read(all, CPU);
            };
            act.Should().Throw<InvalidDataException>($"byte {position} was altered").WithMessage($"*'{path}'*");
        }
    }

    private string WriteStore(string name = "s.store", string tag = "t")
    {
        var path = Path.Combine(_directory, name);
        using var scope = NewDisposeScope();
        using var store = new DiskSampleStore(path, Count, tag);
        store.Initialize(Fields);
        store.Write(arange((long)Count), new[] { randn(Count, 3), randn(Count, 2, 2, ScalarType.Float64) });
        return path;
    }

    private static void Alter(string path, long position, Func<byte, byte> change)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[position] = change(bytes[position]);
        File.WriteAllBytes(path, bytes);
    }

    /// <summary>Edits the header JSON in place (same or different length), keeping the stored length in step but not the checksum.</summary>
    private static void ReplaceInHeader(string path, string from, string to)
    {
        var bytes = File.ReadAllBytes(path);
        var length = (int)BitConverter.ToInt64(bytes, 8);
        var json = Encoding.UTF8.GetString(bytes, JsonStart, length);
        json.Should().Contain(from);
        var edited = Encoding.UTF8.GetBytes(json.Replace(from, to, StringComparison.Ordinal));
        Array.Clear(bytes, JsonStart, HeaderSize - JsonStart);
        edited.CopyTo(bytes, JsonStart);
        BitConverter.GetBytes((long)edited.Length).CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
    }
}
