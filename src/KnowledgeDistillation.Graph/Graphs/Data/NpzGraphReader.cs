using System.IO.Compression;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// Reads node-classification graphs in the gnn-benchmark <c>.npz</c> format (Shchur et al.; Cora, Citeseer, PubMed,
/// Amazon Computers/Photo): a zip of <c>.npy</c> arrays <c>adj_data/adj_indices/adj_indptr/adj_shape</c> (CSR adjacency),
/// <c>attr_data/attr_indices/attr_indptr/attr_shape</c> (CSR features), <c>labels</c>, and optional <c>node_names</c>
/// and <c>class_names</c>.
/// </summary>
public static class NpzGraphReader
{
    /// <summary>Reads the graph at <paramref name="path"/>; a missing or malformed file fails with a message naming what is wrong.</summary>
    public static GraphDataset Read(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException("The path to a .npz graph must be non-empty.", nameof(path));
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No graph file at '{Path.GetFullPath(path)}'. Pass the path of a gnn-benchmark .npz file (e.g. cora.npz).", path);
        }

        using var stream = File.OpenRead(path);
        try
        {
            return Read(stream, path);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith("Graph file", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Graph file '{path}' is malformed: {e.Message}", e);
        }
    }

    /// <summary>Reads a graph from a stream holding a <c>.npz</c> archive; <paramref name="source"/> names it in errors.</summary>
    public static GraphDataset Read(Stream stream, string source = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        Dictionary<string, NpyArray> arrays;
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            arrays = zip.Entries
                .Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal))
                .ToDictionary(e => e.FullName[..^4], e => NpyArray.Parse(e.FullName[..^4], ReadAll(e)));
        }
        catch (InvalidDataException e) when (e.Message.Contains("Central Directory", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("zip", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"Graph file '{source}' is not a .npz (zip) archive: {e.Message}", e);
        }

        try
        {
            var adjacency = Csr(arrays, "adj");
            var features = Csr(arrays, "attr");
            var labels = Require(arrays, "labels").ToInt64();
            var nodeNames = arrays.TryGetValue("node_names", out var nn) ? nn.ToStrings() : null;
            var classNames = arrays.TryGetValue("class_names", out var cn) ? cn.ToStrings() : null;
            return new GraphDataset(adjacency, features, labels, nodeNames, classNames);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Graph file '{source}' is inconsistent: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Graph file '{source}' is malformed: {e.Message}", e);
        }
    }

    private static CsrMatrix Csr(Dictionary<string, NpyArray> arrays, string prefix)
    {
        var shape = Require(arrays, prefix + "_shape").ToInt64();
        if (shape.Length != 2)
        {
            throw new InvalidDataException($"'{prefix}_shape' must hold 2 numbers; it holds {shape.Length}.");
        }

        return new CsrMatrix(
            shape[0],
            shape[1],
            Require(arrays, prefix + "_indptr").ToInt64(),
            Require(arrays, prefix + "_indices").ToInt64(),
            Require(arrays, prefix + "_data").ToSingle());
    }

    private static NpyArray Require(Dictionary<string, NpyArray> arrays, string name) =>
        arrays.TryGetValue(name, out var array)
            ? array
            : throw new InvalidDataException(
                $"it has no array '{name}'. Arrays present: {string.Join(", ", arrays.Keys.Order())}. " +
                "Expected the gnn-benchmark layout (adj_*, attr_*, labels).");

    private static byte[] ReadAll(ZipArchiveEntry entry)
    {
        using var s = entry.Open();
        using var memory = new MemoryStream();
        s.CopyTo(memory);
        return memory.ToArray();
    }
}
