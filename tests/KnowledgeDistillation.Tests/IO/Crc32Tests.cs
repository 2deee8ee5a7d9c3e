using System.IO.Compression;
using System.Text;
using FluentAssertions;
using KnowledgeDistillation.IO;
using Xunit;

namespace KnowledgeDistillation.Tests.IO;

public sealed class Crc32Tests
{
    [Fact]
    public void Matches_the_standard_check_value_and_zip()
    {
        Crc32.Compute(Encoding.ASCII.GetBytes("123456789")).Should().Be(0xCBF43926u);
        Crc32.Compute([]).Should().Be(0u);

        var data = new byte[10_007];
        new Random(5).NextBytes(data);
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var s = zip.CreateEntry("x").Open();
            s.Write(data);
        }

        memory.Position = 0;
        using var read = new ZipArchive(memory, ZipArchiveMode.Read);
        Crc32.Compute(data).Should().Be(read.Entries[0].Crc32);
        Crc32.Append(Crc32.Compute(data.AsSpan(0, 1001)), data.AsSpan(1001)).Should().Be(read.Entries[0].Crc32);
    }
}
