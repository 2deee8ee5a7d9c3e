using System.Buffers.Binary;
using System.Text;
using FluentAssertions;
using KnowledgeDistillation.Build;
using TorchSharp;
using Xunit;

namespace KnowledgeDistillation.Tests.Native;

/// <summary>Tests the ELF patch that lets TorchSharp's libLibTorchSharp.so load on hosts without GLIBCXX_3.4.32.</summary>
public sealed class LibTorchSharpPatcherTests : IDisposable
{
    // Must match the TorchSharp version pinned in Directory.Packages.props.
    private const string TorchSharpVersion = "0.107.0";
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;

    private readonly string _dir = Directory.CreateTempSubdirectory("kd-elf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string OriginalLibrary
    {
        get
        {
            string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
                ? packages
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            return Path.Combine(root, "torchsharp", TorchSharpVersion, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
    }

    [Fact]
    public void TorchSharp_loads_in_the_test_process()
    {
        // Works on this host only because Directory.Build.targets imports the patch target for in-repo test projects.
        torch.ones(2).sum().item<float>().Should().Be(2f);
    }

    [Fact]
    public void Patching_a_copy_flags_only_the_GLIBCXX_3_4_32_requirement()
    {
        byte[] original = File.ReadAllBytes(OriginalLibrary);
        string copy = Write("libLibTorchSharp.so", original);

        LibTorchSharpPatchResult result = LibTorchSharpPatcher.PatchFile(copy);

        result.Status.Should().Be(LibTorchSharpPatchStatus.Patched, result.Message);
        byte[] patched = File.ReadAllBytes(copy);
        patched.Should().HaveCount(original.Length);
        var changed = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
        changed.Should().NotBeEmpty().And.OnlyContain(i => i == result.FlagsOffset || i == result.FlagsOffset + 1);
        ushort before = BinaryPrimitives.ReadUInt16LittleEndian(original.AsSpan((int)result.FlagsOffset));
        ushort after = BinaryPrimitives.ReadUInt16LittleEndian(patched.AsSpan((int)result.FlagsOffset));
        (before & LibTorchSharpPatcher.VerFlagWeak).Should().Be(0);
        after.Should().Be((ushort)(before | LibTorchSharpPatcher.VerFlagWeak));

        // The field is vna_flags of the Elf64_Vernaux named GLIBCXX_3.4.32: vna_name (u32, 4 bytes after vna_flags)
        // indexes the string table that .gnu.version_r links to.
        (long verneed, long verneedSize, int dynstrIndex) = Section(original, ShtGnuVerneed);
        result.FlagsOffset.Should().BeInRange(verneed, verneed + verneedSize - 12);
        uint nameIndex = BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan((int)result.FlagsOffset + 4));
        CString(original, SectionAt(original, dynstrIndex).Offset + nameIndex).Should().Be("GLIBCXX_3.4.32");

        Directory.GetFiles(_dir).Should().ContainSingle("the temporary file is renamed over the target");
        File.GetLastWriteTimeUtc(copy).Should().Be(File.GetLastWriteTimeUtc(OriginalLibrary), "the copy keeps its timestamp so incremental copies skip it");
    }

    [Fact]
    public void Patching_twice_is_a_no_op()
    {
        string copy = Write("libLibTorchSharp.so", File.ReadAllBytes(OriginalLibrary));
        LibTorchSharpPatcher.PatchFile(copy).Status.Should().Be(LibTorchSharpPatchStatus.Patched);
        byte[] once = File.ReadAllBytes(copy);
        File.SetLastWriteTimeUtc(copy, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        LibTorchSharpPatchResult second = LibTorchSharpPatcher.PatchFile(copy);

        second.Status.Should().Be(LibTorchSharpPatchStatus.AlreadyWeak);
        File.ReadAllBytes(copy).Should().Equal(once);
        File.GetLastWriteTimeUtc(copy).Should().Be(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), "nothing is written");
    }

    [Theory]
    [InlineData("empty", "*ELF magic*")]
    [InlineData("truncated header", "*ELF64 header*")]
    [InlineData("wrong magic", "*ELF magic*")]
    [InlineData("32-bit class", "*64-bit*")]
    [InlineData("big-endian", "*little-endian*")]
    [InlineData("truncated file", "*section header table*")]
    [InlineData("section header table out of range", "*section header table*")]
    [InlineData("version_r offset out of range", "*.gnu.version_r*")]
    [InlineData("vernaux out of section", "*Vernaux*")]
    [InlineData("string index out of range", "*string table*")]
    public void Malformed_input_is_rejected_without_writing(string malformation, string expectedMessage)
    {
        byte[] bytes = Malformed(File.ReadAllBytes(OriginalLibrary), malformation);
        string path = Write("bad.so", bytes);

        Action patch = () => LibTorchSharpPatcher.PatchFile(path);

        patch.Should().Throw<InvalidDataException>().WithMessage(expectedMessage);
        File.ReadAllBytes(path).Should().Equal(bytes);
        Directory.GetFiles(_dir).Should().ContainSingle();
    }

    [Fact]
    public void Another_symbol_on_GLIBCXX_3_4_32_is_refused()
    {
        byte[] original = File.ReadAllBytes(OriginalLibrary);
        long flags = LibTorchSharpPatcher.Patch((byte[])original.Clone()).FlagsOffset;
        ushort versionIndex = BinaryPrimitives.ReadUInt16LittleEndian(original.AsSpan((int)flags + 2)); // vna_other

        // Bind dynamic symbol 1 (not the anchor) to that version in .gnu.version.
        (long versym, _, int dynsymIndex) = Section(original, ShtGnuVersym);
        (long dynsym, _, int dynstrIndex) = SectionAt(original, dynsymIndex);
        uint nameIndex = BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan((int)dynsym + 24)); // Elf64_Sym[1].st_name
        string symbol = CString(original, SectionAt(original, dynstrIndex).Offset + nameIndex);
        symbol.Should().NotBe(LibTorchSharpPatcher.AnchorSymbol);
        byte[] tampered = (byte[])original.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(tampered.AsSpan((int)versym + 2), versionIndex);
        string path = Write("libLibTorchSharp.so", tampered);

        LibTorchSharpPatchResult result = LibTorchSharpPatcher.PatchFile(path);

        result.Status.Should().Be(LibTorchSharpPatchStatus.Refused);
        result.Message.Should().Contain(symbol).And.Contain("GLIBCXX_3.4.32");
        File.ReadAllBytes(path).Should().Equal(tampered);
        Directory.GetFiles(_dir).Should().ContainSingle();
    }

    [Fact]
    public void Version_definitions_are_detected_by_complete_name()
    {
        string defines = Write("defines.so", Encoding.ASCII.GetBytes("\0GLIBCXX_3.4.31\0GLIBCXX_3.4.32\0"));
        string lacks = Write("lacks.so", Encoding.ASCII.GetBytes("\0GLIBCXX_3.4.31\0GLIBCXX_3.4.320\0"));

        LibTorchSharpPatcher.DefinesVersion(defines, "GLIBCXX_3.4.32").Should().BeTrue();
        LibTorchSharpPatcher.DefinesVersion(lacks, "GLIBCXX_3.4.32").Should().BeFalse();
        if (OperatingSystem.IsLinux())
        {
            LibTorchSharpPatcher.FindHostLibStdCxx().Should().NotBeNull().And.EndWith("libstdc++.so.6");
        }
    }

    private static byte[] Malformed(byte[] original, string malformation)
    {
        byte[] bytes = (byte[])original.Clone();
        (long verneed, _, int dynstrIndex) = Section(original, ShtGnuVerneed);
        long verneedHeader = SectionHeader(original, ShtGnuVerneed);
        switch (malformation)
        {
            case "empty":
                return [];
            case "truncated header":
                return bytes[..40];
            case "wrong magic":
                bytes[1] = (byte)'X';
                break;
            case "32-bit class":
                bytes[4] = 1;
                break;
            case "big-endian":
                bytes[5] = 2;
                break;
            case "truncated file":
                return bytes[..(bytes.Length / 2)];
            case "section header table out of range":
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(0x28), (ulong)bytes.Length - 100); // e_shoff
                break;
            case "version_r offset out of range":
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan((int)verneedHeader + 24), ulong.MaxValue - 8); // sh_offset
                break;
            case "vernaux out of section":
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)verneed + 8), 0x7fff_fff0); // first vn_aux
                break;
            case "string index out of range":
                long dynstrSize = SectionAt(original, dynstrIndex).Size;
                uint auxOffset = BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan((int)verneed + 8));
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)(verneed + auxOffset + 8)), (uint)dynstrSize + 1); // vna_name
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(malformation), malformation, null);
        }

        return bytes;
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        if (bytes.Length > 0 && File.Exists(OriginalLibrary))
        {
            File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(OriginalLibrary));
        }

        return path;
    }

    // Minimal, independent reading of Elf64_Shdr entries: e_shoff u64 @0x28, e_shnum u16 @0x3C, 64-byte headers with
    // sh_type u32 @4, sh_offset u64 @24, sh_size u64 @32, sh_link u32 @40.
    private static long SectionHeader(byte[] elf, uint type)
    {
        long table = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28));
        int count = BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan(0x3C));
        for (int i = 0; i < count; i++)
        {
            long header = table + (i * 64L);
            if (BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)header + 4)) == type)
            {
                return header;
            }
        }

        throw new InvalidOperationException($"No section of type 0x{type:x}.");
    }

    private static (long Offset, long Size, int Link) Section(byte[] elf, uint type) => ReadHeader(elf, SectionHeader(elf, type));

    private static (long Offset, long Size, int Link) SectionAt(byte[] elf, int index) =>
        ReadHeader(elf, (long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan(0x28)) + (index * 64L));

    private static (long Offset, long Size, int Link) ReadHeader(byte[] elf, long header) =>
        ((long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan((int)header + 24)),
         (long)BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan((int)header + 32)),
         (int)BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)header + 40)));

    private static string CString(byte[] elf, long offset)
    {
        int end = Array.IndexOf(elf, (byte)0, (int)offset);
        return Encoding.ASCII.GetString(elf, (int)offset, end - (int)offset);
    }
}
