using System.IO.Compression;
using System.Text;
using KnowledgeDistillation.Graph.Graphs;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="NpzGraphReader.Read(string, NpzGraphReaderOptions?)"/> on gnn-benchmark style graphs (CSR adjacency and
/// features, labels, names), stored and deflated. The library reads but does not write .npz; the seeds are encoded here
/// as numpy.savez writes them (a zip of .npy 1.0 arrays).
/// </summary>
internal sealed class NpzGraphTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "npz-graph";

    /// <inheritdoc />
    public override string Api => "NpzGraphReader.Read(path) (RejectNonFiniteValues on)";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("npz-path-graph-stored.bin", Archive(PathGraph(), CompressionLevel.NoCompression)),
        ("npz-path-graph-deflated.bin", Archive(PathGraph(), CompressionLevel.Optimal)),
        ("npz-no-names-stored.bin", Archive(PathGraph().Where(a => !a.Key.EndsWith("_names", StringComparison.Ordinal)).ToDictionary(), CompressionLevel.NoCompression)),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "input.npz");
        File.WriteAllBytes(file, input);
        var graph = NpzGraphReader.Read(file);
        GC.KeepAlive(graph.Labels.Sum() + graph.NodeCount + graph.FeatureCount);
    }

    /// <summary>A 5-node graph (edges 0-1, 1-2, 2-3, 3-4 and 4-0, stored one direction), 3 features, 2 classes.</summary>
    private static Dictionary<string, (string Descr, long[] Shape, byte[] Data)> PathGraph() => new()
    {
        ["adj_data"] = Floats(1, 1, 1, 1, 1),
        ["adj_indices"] = Int32s(1, 2, 3, 4, 0),
        ["adj_indptr"] = Int32s(0, 1, 2, 3, 4, 5),
        ["adj_shape"] = Int64s(5, 5),
        ["attr_data"] = Floats(1, 2, 3, 4, 0.5f),
        ["attr_indices"] = Int32s(0, 2, 1, 0, 2),
        ["attr_indptr"] = Int32s(0, 2, 3, 3, 4, 5),
        ["attr_shape"] = Int64s(5, 3),
        ["labels"] = Int64s(0, 0, 1, 1, 0),
        ["node_names"] = Unicode(5, "a", "bb", "ccc", "dddd", "e"),
        ["class_names"] = Unicode(6, "Theory", "Neural"),
    };

    private static byte[] Archive(Dictionary<string, (string Descr, long[] Shape, byte[] Data)> arrays, CompressionLevel level)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, array) in arrays)
            {
                var entry = zip.CreateEntry(name + ".npy", level);
                entry.LastWriteTime = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var stream = entry.Open();
                stream.Write(Npy(array.Descr, array.Shape, array.Data));
            }
        }

        return output.ToArray();
    }

    private static byte[] Npy(string descr, long[] shape, byte[] data)
    {
        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + ((64 - (total % 64)) % 64)) + "\n";
        using var stream = new MemoryStream();
        stream.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(data);
        return stream.ToArray();
    }

    private static (string, long[], byte[]) Int32s(params int[] values) => ("<i4", new long[] { values.Length }, values.SelectMany(BitConverter.GetBytes).ToArray());

    private static (string, long[], byte[]) Int64s(params long[] values) => ("<i8", new long[] { values.Length }, values.SelectMany(BitConverter.GetBytes).ToArray());

    private static (string, long[], byte[]) Floats(params float[] values) => ("<f4", new long[] { values.Length }, values.SelectMany(BitConverter.GetBytes).ToArray());

    private static (string, long[], byte[]) Unicode(int width, params string[] values) =>
        ($"<U{width}", new long[] { values.Length }, values.SelectMany(v => Encoding.UTF32.GetBytes(v.PadRight(width, '\0'))).ToArray());
}
