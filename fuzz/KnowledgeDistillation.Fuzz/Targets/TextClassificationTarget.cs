using System.Text;
using KnowledgeDistillation.Transformers.Data;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="TextClassificationData.Read"/> on a sentence-classification table with a header: GLUE-style TSV when the
/// input holds a tab, otherwise CSV with quoting (doubled quotes, quoted line breaks).
/// </summary>
internal sealed class TextClassificationTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "text-classification";

    /// <inheritdoc />
    public override string Api => "TextClassificationData.Read(path, TSV or CSV options)";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("sst2.tsv.bin", Encoding.UTF8.GetBytes("sentence\tlabel\nhide new secretions \t0\nthe greatest musicians \t1\n\nläuft gut\t1\r\n")),
        ("named.csv.bin", Encoding.UTF8.GetBytes("id,text,label\n1,\"a, quoted \"\"one\"\"\",positive\n2,\"two\nlines\",negative\n3,plain,positive\n")),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "input.txt");
        File.WriteAllBytes(file, input);
        var options = Array.IndexOf(input, (byte)'\t') >= 0
            ? new TextTableOptions()
            : new TextTableOptions { Delimiter = ',', TextColumn = "text" };
        var data = TextClassificationData.Read(file, options);
        GC.KeepAlive(data.Texts.Sum(t => t.Length) + data.Labels.Sum() + data.LabelNames.Count);
    }
}
