using System.Text;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="Dbp5lReader.Load"/> on a two-language DBP-5L directory (en, fr). The input is the directory's ten files
/// joined by form feeds (<c>\f</c>), in the order of <see cref="Files"/>: a missing part leaves its file out (a
/// <see cref="FileNotFoundException"/>), extra parts are ignored. Seeds hold integer and float-style (<c>3.0</c>) ids,
/// CRLF lines, blank lines and a repeated entity name.
/// </summary>
internal sealed class Dbp5lTarget : FuzzTarget
{
    private static readonly string[] Files =
    {
        "relations.txt", "entity/en.tsv", "entity/fr.tsv",
        "kg/en-train.tsv", "kg/en-val.tsv", "kg/en-test.tsv",
        "kg/fr-train.tsv", "kg/fr-val.tsv", "kg/fr-test.tsv",
        "seed_alignlinks/en-fr.tsv",
    };

    /// <inheritdoc />
    public override string Name => "dbp5l";

    /// <inheritdoc />
    public override string Api => "Dbp5lReader.Load(directory, [en, fr]) (input: the ten files joined by \\f)";

    /// <summary><see cref="InvalidDataException"/> and <see cref="FileNotFoundException"/>, and a plain <see cref="ArgumentException"/> (documented by Load).</summary>
    public override bool IsDocumented(Exception exception) =>
        exception is InvalidDataException or FileNotFoundException || exception.GetType() == typeof(ArgumentException);

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("dbp5l-lf.bin", Join(
            "/r/capital\n/r/borders\n", "Paris\nFrance\nBerlin\nGermany\n", "Paris\nFrance\nAllemagne\n",
            "0\t0\t1\n2\t0\t3\n1\t1\t3\n", "0\t0\t1\n", "2\t0\t3\n",
            "0\t0\t1\n1\t1\t2\n", "0\t0\t1\n", "1\t1\t2\n",
            "0\t0\n1\t1\n3\t2\n")),
        ("dbp5l-crlf-floats.bin", Join(
            "r0\r\nr1\r\nr2\r\n", "a\r\nb\r\na\r\nc\r\n", "x\r\ny\r\n",
            "0.0\t1.0\t1.0\r\n\r\n3\t2\t2\r\n", "1\t0\t0\r\n", "2\t1\t3\r\n",
            "0\t2\t1\r\n", "1\t1\t0\r\n", "0\t0\t0\r\n",
            "0.0\t1.0\r\n2\t0\r\n")),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var root = Path.Combine(scratch, "dbp5l");
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        foreach (var folder in new[] { "entity", "kg", "seed_alignlinks" })
        {
            Directory.CreateDirectory(Path.Combine(root, folder));
        }

        var parts = Split(input);
        for (var i = 0; i < Math.Min(parts.Count, Files.Length); i++)
        {
            File.WriteAllBytes(Path.Combine(root, Files[i]), parts[i]);
        }

        var graph = Dbp5lReader.Load(root, new[] { "en", "fr" });
        var total = graph.RelationCount;
        foreach (var language in graph.Languages)
        {
            total += graph[language].EntityCount;
        }

        foreach (var (a, b) in graph.Pairs)
        {
            total += graph.Alignment(a, b).Count;
        }

        GC.KeepAlive(total);
    }

    private static byte[] Join(params string[] files) => Encoding.UTF8.GetBytes(string.Join('\f', files));

    private static List<byte[]> Split(byte[] input)
    {
        var parts = new List<byte[]>();
        var start = 0;
        for (var i = 0; i <= input.Length; i++)
        {
            if (i == input.Length || input[i] == (byte)'\f')
            {
                parts.Add(input[start..i]);
                start = i + 1;
            }
        }

        return parts;
    }
}
