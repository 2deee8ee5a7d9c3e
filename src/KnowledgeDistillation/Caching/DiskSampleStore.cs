using System.IO.MemoryMappedFiles;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>
/// Keeps every field in a memory-mapped file, so a store may exceed RAM and be reopened by a later process.
/// Layout: a 4 KiB JSON header (tag, sample count, fields), then per field <c>SampleCount x row</c> values
/// of the field's type, then one "written" byte per sample. A file made with another tag, for another sample
/// count or with other fields is refused with a message naming the difference.
/// </summary>
public sealed class DiskSampleStore : ISampleStore
{
    private static readonly byte[] Magic = "KDSAMPLE"u8.ToArray();
    private const long HeaderSize = 4096;

    private readonly string _path;
    private readonly string _tag;
    private readonly string _tagMismatch;
    private readonly bool[] _filled;
    private MemoryMappedFile? _file;
    private MemoryMappedViewAccessor? _view;
    private long[] _offsets = Array.Empty<long>();
    private long _filledOffset;

    /// <summary>Opens the store at <paramref name="path"/> if the file exists (checking it), or prepares a new one.</summary>
    /// <param name="path">The file.</param>
    /// <param name="sampleCount">The number of samples (&gt;= 1).</param>
    /// <param name="tag">What the contents are valid for (e.g. a fingerprint of the model that produced them); a file with another tag is refused.</param>
    /// <param name="tagMismatch">Explains a tag mismatch in the error (default: "it was written with a different tag").</param>
    /// <exception cref="ArgumentException">The path is empty.</exception>
    /// <exception cref="InvalidDataException">The file is not a sample store or is corrupted.</exception>
    /// <exception cref="InvalidOperationException">The file was made with another tag or sample count.</exception>
    public DiskSampleStore(string path, long sampleCount, string tag = "", string? tagMismatch = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(tag);
        SampleCount = SampleStoreChecks.Count(sampleCount);
        _path = Path.GetFullPath(path);
        _tag = tag;
        _tagMismatch = tagMismatch ?? "it was written with a different tag";
        _filled = new bool[sampleCount];
        if (File.Exists(_path))
        {
            Open();
        }
    }

    /// <inheritdoc />
    public long SampleCount { get; }

    /// <inheritdoc />
    public IReadOnlyList<SampleField>? Fields { get; private set; }

    /// <inheritdoc />
    public long FilledCount { get; private set; }

    /// <summary>The file.</summary>
    public string FilePath => _path;

    /// <inheritdoc />
    public void Initialize(IReadOnlyList<SampleField> fields)
    {
        var checkedFields = SampleStoreChecks.Fields(Fields, fields, $"The sample store '{_path}'");
        if (Fields is not null)
        {
            return;
        }

        var header = JsonSerializer.SerializeToUtf8Bytes(new Header(_tag, SampleCount, checkedFields.Select(f => new HeaderField(f.Name, f.RowShape.ToArray(), f.ElementType.ToString())).ToArray()));
        if (header.Length > HeaderSize - Magic.Length - 8)
        {
            throw new ArgumentException("Too many fields to describe in a sample-store header.", nameof(fields));
        }

        Fields = checkedFields;
        ComputeOffsets();
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        using (var stream = new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            stream.SetLength(_filledOffset + SampleCount);
            stream.Write(Magic);
            stream.Write(BitConverter.GetBytes((long)header.Length));
            stream.Write(header);
        }

        Map();
    }

    /// <inheritdoc />
    public Tensor Contains(Tensor indices)
    {
        var host = HostIndices(indices);
        return tensor(host.Select(i => _filled[i]).ToArray(), ScalarType.Bool, indices.device);
    }

    /// <inheritdoc />
    public void Write(Tensor indices, IReadOnlyList<Tensor> rows)
    {
        var fields = Fields ?? throw new InvalidOperationException("Initialize the sample store's fields before writing.");
        var host = HostIndices(indices);
        SampleStoreChecks.Rows(fields, indices, rows);
        var view = _view!;
        for (var f = 0; f < fields.Count; f++)
        {
            var n = (int)fields[f].RowElements;
            using var cpu = rows[f].detach().to(fields[f].ElementType).cpu().contiguous();
            if (fields[f].ElementType == ScalarType.Float64)
            {
                var data = cpu.data<double>().ToArray();
                for (var b = 0; b < host.Length; b++)
                {
                    view.WriteArray(_offsets[f] + (host[b] * fields[f].RowBytes), data, b * n, n);
                }
            }
            else
            {
                var data = cpu.data<float>().ToArray();
                for (var b = 0; b < host.Length; b++)
                {
                    view.WriteArray(_offsets[f] + (host[b] * fields[f].RowBytes), data, b * n, n);
                }
            }
        }

        foreach (var i in host.Where(i => !_filled[i]))
        {
            _filled[i] = true;
            FilledCount++;
            view.Write(_filledOffset + i, (byte)1);
        }

        view.Flush();
    }

    /// <inheritdoc />
    public Tensor[] Read(Tensor indices, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var fields = Fields ?? throw new InvalidOperationException("Initialize the sample store's fields before reading.");
        var host = HostIndices(indices);
        var result = new Tensor[fields.Count];
        for (var f = 0; f < fields.Count; f++)
        {
            var n = (int)fields[f].RowElements;
            var shape = fields[f].RowShape.Prepend(host.Length).ToArray();
            if (fields[f].ElementType == ScalarType.Float64)
            {
                var data = new double[host.Length * n];
                for (var b = 0; b < host.Length; b++)
                {
                    _view!.ReadArray(_offsets[f] + (host[b] * fields[f].RowBytes), data, b * n, n);
                }

                result[f] = tensor(data, shape).to(device);
            }
            else
            {
                var data = new float[host.Length * n];
                for (var b = 0; b < host.Length; b++)
                {
                    _view!.ReadArray(_offsets[f] + (host[b] * fields[f].RowBytes), data, b * n, n);
                }

                result[f] = tensor(data, shape).to(device);
            }
        }

        return result;
    }

    /// <inheritdoc />
    public void Forget(Tensor indices)
    {
        var host = HostIndices(indices);
        if (_view is not { } view)
        {
            return;
        }

        foreach (var i in host.Where(i => _filled[i]))
        {
            _filled[i] = false;
            FilledCount--;
            view.Write(_filledOffset + i, (byte)0);
        }

        view.Flush();
    }

    /// <summary>Unmaps the file (its contents stay on disk).</summary>
    public void Dispose()
    {
        _view?.Dispose();
        _file?.Dispose();
    }

    private long[] HostIndices(Tensor indices)
    {
        SampleStoreChecks.Indices(indices, SampleCount);
        using var cpu = indices.cpu();
        return cpu.data<long>().ToArray();
    }

    private void Open()
    {
        Header? header;
        using (var stream = new FileStream(_path, FileMode.Open, FileAccess.Read))
        {
            var prefix = new byte[Magic.Length + 8];
            if (stream.Read(prefix) != prefix.Length || !prefix.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            {
                throw new InvalidDataException($"'{_path}' is not a sample-store file.");
            }

            var length = BitConverter.ToInt64(prefix, Magic.Length);
            if (length <= 0 || length > HeaderSize - prefix.Length)
            {
                throw new InvalidDataException($"'{_path}' has a corrupted sample-store header.");
            }

            var json = new byte[length];
            stream.ReadExactly(json);
            try
            {
                header = JsonSerializer.Deserialize<Header>(json);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{_path}' has a corrupted sample-store header: {e.Message}");
            }
        }

        if (header?.Fields is null || header.Tag is null)
        {
            throw new InvalidDataException($"'{_path}' has an empty sample-store header.");
        }

        if (header.Tag != _tag)
        {
            throw new InvalidOperationException($"The sample store '{_path}' cannot be reused: {_tagMismatch}. Delete the file or use another path.");
        }

        if (header.SampleCount != SampleCount)
        {
            throw new InvalidOperationException(
                $"The sample store '{_path}' was made for {header.SampleCount} samples, but this data has {SampleCount}. Delete the file or use another path for this dataset.");
        }

        try
        {
            Fields = header.Fields.Select(f => new SampleField(f.Name, f.RowShape, Enum.Parse<ScalarType>(f.ElementType))).ToArray();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{_path}' has a corrupted sample-store header: {e.Message}");
        }

        ComputeOffsets();
        if (new FileInfo(_path).Length != _filledOffset + SampleCount)
        {
            throw new InvalidDataException($"'{_path}' has the wrong size for its header; the file is truncated or corrupted.");
        }

        Map();
        for (long i = 0; i < SampleCount; i++)
        {
            if (_view!.ReadByte(_filledOffset + i) != 0)
            {
                _filled[i] = true;
                FilledCount++;
            }
        }
    }

    private void ComputeOffsets()
    {
        _offsets = new long[Fields!.Count];
        var offset = HeaderSize;
        for (var f = 0; f < Fields.Count; f++)
        {
            _offsets[f] = offset;
            offset += SampleCount * Fields[f].RowBytes;
        }

        _filledOffset = offset;
    }

    private void Map()
    {
        _file = MemoryMappedFile.CreateFromFile(_path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
    }

    private sealed record Header(string Tag, long SampleCount, HeaderField[] Fields);

    private sealed record HeaderField(string Name, long[] RowShape, string ElementType);
}
