using System.Text;
using KnowledgeDistillation.Graph.KnowledgeGraphs;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="TripleFileReader.Read"/> on tab-separated knowledge-graph triples (LF and CRLF line ends, non-ASCII names,
/// blank lines), adding unseen names, with the default limits (64 KiB lines, strict UTF-8, no control characters).
/// </summary>
internal sealed class TriplesTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "kg-triples";

    /// <inheritdoc />
    public override string Api => "TripleFileReader.Read(path, entities, relations, addUnknown: true)";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("triples-lf.bin", Encoding.UTF8.GetBytes("/m/a\t/r/likes\t/m/b\n/m/b\t/r/likes\t/m/c\n\n/m/c\t/r/knows\t/m/a\n")),
        ("triples-crlf.bin", Encoding.UTF8.GetBytes("alice\tknows\tbob\r\nbob\tknows\tcarol\r\ncarol\tlikes\talice\r\n")),
        ("triples-unicode.bin", Encoding.UTF8.GetBytes("Zürich\tliegt_in\tSchweiz\n東京\tcapital_of\t日本\nSchweiz\tborders\tÖsterreich\n")),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "input.txt");
        File.WriteAllBytes(file, input);
        var entities = new Vocabulary();
        var relations = new Vocabulary();
        var triples = TripleFileReader.Read(file, entities, relations, addUnknown: true);
        GC.KeepAlive(triples.Count + entities.Count + relations.Count);
    }
}
