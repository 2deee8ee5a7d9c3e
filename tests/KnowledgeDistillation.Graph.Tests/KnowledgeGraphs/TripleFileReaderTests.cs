using System.Text;
using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using Xunit;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

public sealed class TripleFileReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kd-triples-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_line_longer_than_the_limit_is_rejected_with_its_number()
    {
        var path = Write("train.txt", Encoding.UTF8.GetBytes("a\tr\tb\n" + new string('x', 1 << 20) + "\tr\tb\n"));
        var act = () => Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage($"{path}, line 2: longer than 65536 bytes (TripleFileReaderOptions.MaxLineBytes)*");

        // Without any line break at all, and with a configured limit (a CRLF break does not count).
        var noBreak = Write("nobreak.txt", Encoding.UTF8.GetBytes(new string('y', 200_000)));
        ((Action)(() => Read(noBreak))).Should().Throw<InvalidDataException>().WithMessage("*line 1: longer than 65536 bytes*");
        var shortLimit = Write("short.txt", Encoding.UTF8.GetBytes("abc\tr\tde\r\nabc\tr\tdef\r\n"));
        var limited = new TripleFileReaderOptions { MaxLineBytes = 8 };
        ((Action)(() => Read(shortLimit, limited))).Should().Throw<InvalidDataException>().WithMessage("*line 2: longer than 8 bytes*");
        Read(shortLimit).Should().HaveCount(2);
    }

    [Fact]
    public void A_control_character_in_a_name_is_rejected_with_the_line()
    {
        var path = Write("train.txt", Encoding.UTF8.GetBytes("a\tr\tb\nc\0d\tr\tb\n"));
        var act = () => Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage($"{path}, line 2: the head entity name 'c\\u0000d' holds U+0000*control characters*");

        var relation = Write("valid.txt", Encoding.UTF8.GetBytes("a\tr\u0001\tb\n"));
        ((Action)(() => Read(relation))).Should().Throw<InvalidDataException>().WithMessage("*line 1: the relation name*U+0001*");
    }

    [Fact]
    public void Invalid_utf8_is_rejected_with_the_line()
    {
        var path = Write("train.txt", [.. "a\tr\tb\n"u8, 0x61, 0xFF, 0x62, .. "\tr\tc\n"u8]);
        var act = () => Read(path);
        act.Should().Throw<InvalidDataException>().WithMessage($"{path}, line 2: not valid UTF-8*");
    }

    [Fact]
    public void Utf8_names_a_byte_order_mark_and_crlf_breaks_are_read()
    {
        var path = Write("train.txt", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("é\tr\t日本\r\n\r\n日本\tr\t𝔸\r\n")]);
        var entities = new Vocabulary();
        var relations = new Vocabulary();

        var triples = TripleFileReader.Read(path, entities, relations, addUnknown: true);

        triples.Should().Equal(new Triple(0, 0, 1), new Triple(1, 0, 2));
        entities.Names.Should().Equal("é", "日本", "𝔸");
    }

    [Fact]
    public void Load_applies_the_limits_to_every_split()
    {
        Write("train.txt", Encoding.UTF8.GetBytes("a\tr\tb\n"));
        Write("valid.txt", Encoding.UTF8.GetBytes("a\tr\tb\n"));
        var test = Write("test.txt", Encoding.UTF8.GetBytes("a\tr\tb\na\tr\tb\0\n"));
        var act = () => KnowledgeGraph.Load(_dir);
        act.Should().Throw<InvalidDataException>().WithMessage($"{test}, line 2: the tail entity name*U+0000*");
    }

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static IReadOnlyList<Triple> Read(string path, TripleFileReaderOptions? options = null) =>
        TripleFileReader.Read(path, new Vocabulary(), new Vocabulary(), addUnknown: true, options: options);
}
