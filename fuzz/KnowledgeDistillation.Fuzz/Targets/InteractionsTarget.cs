using System.Text;
using KnowledgeDistillation.Graph.Recommendation;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="InteractionReader.Read(string, InteractionReaderOptions?)"/> on a MovieLens-style <c>ratings.csv</c>, read twice:
/// with the default options (every row positive) and with a rating threshold of 3.5.
/// </summary>
internal sealed class InteractionsTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "interactions";

    /// <inheritdoc />
    public override string Api => "InteractionReader.Read(path) and Read(path, PositiveThreshold = 3.5)";

    /// <summary><see cref="InvalidDataException"/>, and a plain <see cref="ArgumentException"/> for a named column missing from the header (documented).</summary>
    public override bool IsDocumented(Exception exception) =>
        exception is InvalidDataException || exception.GetType() == typeof(ArgumentException);

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("ratings-lf.bin", Encoding.UTF8.GetBytes(
            "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n2,31,4.0,835355493\n\n3,10,5.0,1133571238\n2,31,3.5,835355400\n")),
        ("ratings-crlf-reordered.bin", Encoding.UTF8.GetBytes(
            "timestamp,rating,movieId,userId,tag\r\n964982703,4.0,1,u1,x\r\n964981247,1.5,3,u1,\r\n964982224,4.5,6,u2,y\r\n")),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "ratings.csv");
        File.WriteAllBytes(file, input);
        foreach (var options in new[] { new InteractionReaderOptions(), new InteractionReaderOptions { PositiveThreshold = 3.5 } })
        {
            var data = InteractionReader.Read(file, options);
            GC.KeepAlive(data.Interactions.Sum(i => i.Timestamp) + data.UserCount + data.ItemCount);
        }
    }
}
