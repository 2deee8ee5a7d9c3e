using System.IO.MemoryMappedFiles;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>
/// Keeps cached rows in a memory-mapped file, so the cache may exceed RAM and be reused by a later process.
/// Layout: a 4 KiB-aligned JSON header (teacher fingerprint, sample count, entries), then per entry
/// <c>N x row</c> float32, then <c>N x 2</c> float64 input fingerprints, then <c>N</c> filled flags.
/// A file made by another teacher, for another sample count or with other entries is refused.
/// </summary>
internal sealed class DiskTeacherOutputStore : ITeacherOutputStore
{
    private static readonly byte[] Magic = "KDTCACHE"u8.ToArray();
    private const long HeaderSize = 4096;

    private readonly string _path;
    private readonly long _sampleCount;
    private readonly string _teacherFingerprint;
    private MemoryMappedFile? _file;
    private MemoryMappedViewAccessor? _view;
    private long[] _entryOffsets = Array.Empty<long>();
    private long _fingerprintOffset;
    private long _filledOffset;
    private bool[] _filled;

    public DiskTeacherOutputStore(string path, long sampleCount, string teacherFingerprint)
    {
        _path = Path.GetFullPath(path);
        _sampleCount = sampleCount;
        _teacherFingerprint = teacherFingerprint;
        _filled = new bool[sampleCount];
        if (File.Exists(_path))
        {
            Open();
        }
    }

    public IReadOnlyList<TeacherOutputEntry>? Layout { get; private set; }

    public long FilledCount { get; private set; }

    public void Initialize(IReadOnlyList<TeacherOutputEntry> layout)
    {
        if (Layout is not null)
        {
            if (Layout.Count != layout.Count || Layout.Zip(layout).Any(p => !p.First.SameAs(p.Second)))
            {
                throw new InvalidOperationException(
                    $"The teacher cache '{_path}' holds [{string.Join("; ", Layout)}], but the teacher now returns " +
                    $"[{string.Join("; ", layout)}]. Delete the file or use another path.");
            }

            return;
        }

        Layout = layout;
        ComputeOffsets();
        var header = JsonSerializer.SerializeToUtf8Bytes(new Header(_teacherFingerprint, _sampleCount, layout.Select(e => new HeaderEntry(e.Name, e.RowShape)).ToArray()));
        if (header.Length > HeaderSize - Magic.Length - 8)
        {
            throw new InvalidOperationException("The teacher returns too many outputs to describe in a cache header.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        using (var stream = new FileStream(_path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            stream.SetLength(_filledOffset + _sampleCount);
            stream.Write(Magic);
            stream.Write(BitConverter.GetBytes((long)header.Length));
            stream.Write(header);
        }

        Map();
    }

    public bool IsFilled(long index) => _filled[index];

    public void Write(long[] indices, Tensor indexTensor, IReadOnlyList<Tensor> rows, Tensor fingerprints)
    {
        var view = _view!;
        for (var e = 0; e < Layout!.Count; e++)
        {
            var rowElements = Layout[e].RowElements;
            var data = rows[e].detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
            for (var b = 0; b < indices.Length; b++)
            {
                view.WriteArray(_entryOffsets[e] + (indices[b] * rowElements * sizeof(float)), data, (int)(b * rowElements), (int)rowElements);
            }
        }

        var prints = fingerprints.cpu().contiguous().data<double>().ToArray();
        for (var b = 0; b < indices.Length; b++)
        {
            view.WriteArray(_fingerprintOffset + (indices[b] * 2 * sizeof(double)), prints, b * 2, 2);
        }

        foreach (var i in indices)
        {
            if (!_filled[i])
            {
                _filled[i] = true;
                FilledCount++;
                view.Write(_filledOffset + i, (byte)1);
            }
        }

        view.Flush();
    }

    public Tensor[] Read(long[] indices, Tensor indexTensor, Device device)
    {
        var result = new Tensor[Layout!.Count];
        for (var e = 0; e < Layout.Count; e++)
        {
            var rowElements = Layout[e].RowElements;
            var data = new float[indices.Length * rowElements];
            for (var b = 0; b < indices.Length; b++)
            {
                _view!.ReadArray(_entryOffsets[e] + (indices[b] * rowElements * sizeof(float)), data, (int)(b * rowElements), (int)rowElements);
            }

            result[e] = tensor(data, Layout[e].RowShape.Prepend(indices.Length).ToArray()).to(device);
        }

        return result;
    }

    public Tensor ReadFingerprints(long[] indices, Tensor indexTensor, Device device)
    {
        var data = new double[indices.Length * 2];
        for (var b = 0; b < indices.Length; b++)
        {
            _view!.ReadArray(_fingerprintOffset + (indices[b] * 2 * sizeof(double)), data, b * 2, 2);
        }

        return tensor(data, new long[] { indices.Length, 2 }).to(device);
    }

    public void Dispose()
    {
        _view?.Dispose();
        _file?.Dispose();
    }

    private void Open()
    {
        Header? header;
        using (var stream = new FileStream(_path, FileMode.Open, FileAccess.Read))
        {
            var prefix = new byte[Magic.Length + 8];
            if (stream.Read(prefix) != prefix.Length || !prefix.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            {
                throw new InvalidDataException($"'{_path}' is not a teacher cache file.");
            }

            var length = BitConverter.ToInt64(prefix, Magic.Length);
            if (length <= 0 || length > HeaderSize - prefix.Length)
            {
                throw new InvalidDataException($"'{_path}' has a corrupted teacher-cache header.");
            }

            var json = new byte[length];
            stream.ReadExactly(json);
            try
            {
                header = JsonSerializer.Deserialize<Header>(json);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"'{_path}' has a corrupted teacher-cache header: {e.Message}");
            }
        }

        if (header is null || header.Entries is null)
        {
            throw new InvalidDataException($"'{_path}' has an empty teacher-cache header.");
        }

        if (header.TeacherFingerprint != _teacherFingerprint)
        {
            throw new InvalidOperationException(
                $"The teacher cache '{_path}' was made by a teacher with different weights. Delete the file or use another path " +
                "for this teacher; a cache never serves another teacher's outputs.");
        }

        if (header.SampleCount != _sampleCount)
        {
            throw new InvalidOperationException(
                $"The teacher cache '{_path}' was made for {header.SampleCount} samples, but this data has {_sampleCount}. " +
                "Delete the file or use another path for this dataset.");
        }

        Layout = header.Entries.Select(e => new TeacherOutputEntry(e.Name, e.RowShape)).ToArray();
        ComputeOffsets();
        if (new FileInfo(_path).Length != _filledOffset + _sampleCount)
        {
            throw new InvalidDataException($"'{_path}' has the wrong size for its header; the file is truncated or corrupted.");
        }

        Map();
        for (long i = 0; i < _sampleCount; i++)
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
        _entryOffsets = new long[Layout!.Count];
        var offset = HeaderSize;
        for (var e = 0; e < Layout.Count; e++)
        {
            _entryOffsets[e] = offset;
            offset += _sampleCount * Layout[e].RowElements * sizeof(float);
        }

        _fingerprintOffset = offset;
        _filledOffset = offset + (_sampleCount * 2 * sizeof(double));
    }

    private void Map()
    {
        _file = MemoryMappedFile.CreateFromFile(_path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
    }

    private sealed record Header(string TeacherFingerprint, long SampleCount, HeaderEntry[] Entries);

    private sealed record HeaderEntry(string Name, long[] RowShape);
}
