using System.Globalization;
using System.IO.Compression;
using KnowledgeDistillation.IO;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// Reads node-classification graphs in the gnn-benchmark <c>.npz</c> format (Shchur et al.; Cora, Citeseer, PubMed,
/// Amazon Computers/Photo): a zip of <c>.npy</c> arrays <c>adj_data/adj_indices/adj_indptr/adj_shape</c> (CSR adjacency),
/// <c>attr_data/attr_indices/attr_indptr/attr_shape</c> (CSR features), <c>labels</c>, and optional <c>node_names</c>
/// and <c>class_names</c>.
/// </summary>
/// <remarks>
/// A malformed file raises an <see cref="InvalidDataException"/> whose message names the file, the array (or zip entry)
/// and what was expected: a zip entry whose CRC-32 or length does not match its data, two entries of the same name, a
/// header shape that is not non-negative integers or needs more bytes than the array holds, a CSR shape above
/// <see cref="Array.MaxLength"/> or inconsistent with its arrays, and (by default, see
/// <see cref="NpzGraphReaderOptions.RejectNonFiniteValues"/>) a NaN or infinite adjacency or feature value.
/// </remarks>
public static class NpzGraphReader
{
    /// <summary>Reads the graph at <paramref name="path"/>; a missing or malformed file fails with a message naming what is wrong.</summary>
    /// <param name="path">The <c>.npz</c> file.</param>
    /// <param name="options">The options, or <c>null</c> for <see cref="NpzGraphReaderOptions.Default"/>.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed gnn-benchmark <c>.npz</c> graph.</exception>
    public static GraphDataset Read(string path, NpzGraphReaderOptions? options = null)
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
        return Read(stream, path, options);
    }

    /// <summary>Reads a graph from a stream holding a <c>.npz</c> archive; <paramref name="source"/> names it in errors.</summary>
    /// <param name="stream">The archive.</param>
    /// <param name="source">The name used in error messages.</param>
    /// <param name="options">The options, or <c>null</c> for <see cref="NpzGraphReaderOptions.Default"/>.</param>
    /// <exception cref="InvalidDataException">The data is not a well-formed gnn-benchmark <c>.npz</c> graph.</exception>
    public static GraphDataset Read(Stream stream, string source = "stream", NpzGraphReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        options ??= NpzGraphReaderOptions.Default;
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Graph file '{source}' is not a .npz (zip) archive: {e.Message}", e);
        }

        Dictionary<string, NpyArray> arrays;
        try
        {
            using (zip)
            {
                arrays = ReadArrays(zip);
            }
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"Graph file '{source}' is malformed: {e.Message}", e);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or NotSupportedException)
        {
            throw new InvalidDataException($"Graph file '{source}' is malformed: {e.Message}", e);
        }

        try
        {
            var adjacency = Csr(arrays, "adj", options);
            var features = Csr(arrays, "attr", options);
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
        catch (OverflowException e)
        {
            throw new InvalidDataException($"Graph file '{source}' is malformed: {e.Message}", e);
        }
    }

    private static Dictionary<string, NpyArray> ReadArrays(ZipArchive zip)
    {
        var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
            {
                continue;
            }

            var name = entry.FullName[..^4];
            if (arrays.ContainsKey(name))
            {
                throw new InvalidDataException($"it holds two zip entries named '{entry.FullName}'; expected each array once.");
            }

            arrays.Add(name, NpyArray.Parse(name, ReadAll(entry)));
        }

        return arrays;
    }

    private static CsrMatrix Csr(Dictionary<string, NpyArray> arrays, string prefix, NpzGraphReaderOptions options)
    {
        var shape = Require(arrays, prefix + "_shape").ToInt64();
        if (shape.Length != 2)
        {
            throw new InvalidDataException($"'{prefix}_shape' must hold 2 numbers; it holds {shape.Length}.");
        }

        if (shape.Any(d => d < 0 || d > Array.MaxLength))
        {
            throw new InvalidDataException(
                $"'{prefix}_shape' is {Guard.FormatShape(shape)}; expected two sizes in [0, {Array.MaxLength}] " +
                $"(the rows must also match '{prefix}_indptr').");
        }

        var matrix = new CsrMatrix(
            shape[0],
            shape[1],
            Require(arrays, prefix + "_indptr").ToInt64(),
            Require(arrays, prefix + "_indices").ToInt64(),
            Require(arrays, prefix + "_data").ToSingle());
        if (options.RejectNonFiniteValues)
        {
            RequireFinite(matrix, prefix + "_data");
        }

        return matrix;
    }

    private static void RequireFinite(CsrMatrix matrix, string name)
    {
        for (long r = 0; r < matrix.Rows; r++)
        {
            for (var k = matrix.RowPointers[r]; k < matrix.RowPointers[r + 1]; k++)
            {
                var v = matrix.Values[k];
                if (!float.IsFinite(v))
                {
                    throw new InvalidDataException(
                        $"'{name}' holds {v.ToString(CultureInfo.InvariantCulture)} at entry {k} (row {r}, column {matrix.ColumnIndices[k]}); expected finite float32 values " +
                        $"(set {nameof(NpzGraphReaderOptions)}.{nameof(NpzGraphReaderOptions.RejectNonFiniteValues)} = false to accept them).");
                }
            }
        }
    }

    private static NpyArray Require(Dictionary<string, NpyArray> arrays, string name) =>
        arrays.TryGetValue(name, out var array)
            ? array
            : throw new InvalidDataException(
                $"it has no array '{name}'. Arrays present: {string.Join(", ", arrays.Keys.Order())}. " +
                "Expected the gnn-benchmark layout (adj_*, attr_*, labels).");

    /// <summary>
    /// The bytes of an entry, checked against the length and CRC-32 of its zip header: .NET's <see cref="ZipArchive"/> does not
    /// verify the CRC-32 of stored (uncompressed) entries, which numpy.savez writes.
    /// </summary>
    private static byte[] ReadAll(ZipArchiveEntry entry)
    {
        if (entry.Length > Array.MaxLength)
        {
            throw new InvalidDataException($"zip entry '{entry.FullName}' declares {entry.Length} bytes; at most {Array.MaxLength} are supported.");
        }

        using var s = entry.Open();
        using var memory = new MemoryStream();
        var buffer = new byte[81920];
        int got;
        while ((got = s.Read(buffer)) > 0)
        {
            if (memory.Length + got > entry.Length)
            {
                throw new InvalidDataException($"zip entry '{entry.FullName}' holds more than the {entry.Length} bytes its header declares.");
            }

            memory.Write(buffer, 0, got);
        }

        if (memory.Length != entry.Length)
        {
            throw new InvalidDataException($"zip entry '{entry.FullName}' holds {memory.Length} bytes; its header declares {entry.Length}.");
        }

        var bytes = memory.ToArray();
        var crc = Crc32.Compute(bytes);
        if (crc != entry.Crc32)
        {
            throw new InvalidDataException(
                $"zip entry '{entry.FullName}' has CRC-32 0x{crc:X8}, but its header declares 0x{entry.Crc32:X8}: the data is corrupt.");
        }

        return bytes;
    }
}
