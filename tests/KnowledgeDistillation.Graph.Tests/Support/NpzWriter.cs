using System.IO.Compression;
using System.Text;

namespace KnowledgeDistillation.Graph.Tests.Support;

/// <summary>Writes .npz archives of .npy (format 1.0) arrays, as numpy.savez does, for reader tests.</summary>
internal static class NpzWriter
{
    public static void Write(string path, IReadOnlyDictionary<string, (string Descr, long[] Shape, byte[] Data)> arrays, bool compress = false)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (name, array) in arrays)
        {
            var entry = zip.CreateEntry(name + ".npy", compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            using var s = entry.Open();
            var bytes = Npy(array.Descr, array.Shape, array.Data);
            s.Write(bytes);
        }
    }

    public static byte[] Npy(string descr, long[] shape, byte[] data)
    {
        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shapeText}, }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + ((64 - (total % 64)) % 64)) + "\n";
        var result = new List<byte> { 0x93 };
        result.AddRange(Encoding.ASCII.GetBytes("NUMPY"));
        result.Add(1);
        result.Add(0);
        result.AddRange(BitConverter.GetBytes((ushort)header.Length));
        result.AddRange(Encoding.ASCII.GetBytes(header));
        result.AddRange(data);
        return result.ToArray();
    }

    public static (string, long[], byte[]) Int32s(params int[] values) => ("<i4", new long[] { values.Length }, values.SelectMany(BitConverter.GetBytes).ToArray());

    public static (string, long[], byte[]) Int64s(params long[] values) => ("<i8", new long[] { values.Length }, values.SelectMany(BitConverter.GetBytes).ToArray());

    public static (string, long[], byte[]) Floats(params float[] values) => ("<f4", new long[] { values.Length }, values.SelectMany(BitConverter.GetBytes).ToArray());

    public static (string, long[], byte[]) Int8s(params sbyte[] values) => ("|i1", new long[] { values.Length }, values.Select(v => (byte)v).ToArray());

    public static (string, long[], byte[]) Unicode(int width, params string[] values) =>
        ($"<U{width}", new long[] { values.Length }, values.SelectMany(v => Encoding.UTF32.GetBytes(v.PadRight(width, '\0'))).ToArray());

    /// <summary>A valid gnn-benchmark-style graph: a 4-node path 0-1-2-3 (stored one direction), 3 features, 2 classes.</summary>
    public static Dictionary<string, (string, long[], byte[])> PathGraph() => new()
    {
        ["adj_data"] = Floats(1, 1, 1),
        ["adj_indices"] = Int32s(1, 2, 3),
        ["adj_indptr"] = Int32s(0, 1, 2, 3, 3),
        ["adj_shape"] = Int64s(4, 4),
        ["attr_data"] = Floats(1, 2, 3, 4),
        ["attr_indices"] = Int32s(0, 2, 1, 0),
        ["attr_indptr"] = Int32s(0, 2, 3, 3, 4),
        ["attr_shape"] = Int64s(4, 3),
        ["labels"] = Int8s(0, 0, 1, 1),
        ["node_names"] = Unicode(5, "a", "bb", "ccc", "dddd"),
        ["class_names"] = Unicode(9, "Theory", "Neural_Ne"),
    };
}
