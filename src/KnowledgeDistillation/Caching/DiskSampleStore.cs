using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>
/// Keeps every field in a memory-mapped file, so a store may exceed RAM and be reopened by a later process.
/// Layout (format 2): a 4 KiB header (the magic <c>KDSAMPL2</c>, the JSON's length, a CRC-32C of the JSON, then
/// the JSON: tag, sample count, fields), then per field <c>SampleCount x row</c> values of the field's type, then
/// one CRC-32C per sample over its rows in every field (and its index), then one "written" byte (0 or 1) per
/// sample. A sample's checksum is written with its rows and checked on every read of them, so altered bytes are
/// reported (<see cref="InvalidDataException"/> naming the file and the sample) instead of served. A file made
/// with another tag, for another sample count or with other fields is refused with a message naming the
/// difference; a format-1 file (magic <c>KDSAMPLE</c>, no checksums) is refused as outdated.
/// </summary>
public sealed class DiskSampleStore : ISampleStore
{
    private static readonly byte[] Magic = "KDSAMPL2"u8.ToArray();
    private static readonly byte[] MagicFormat1 = "KDSAMPLE"u8.ToArray();
    private const long HeaderSize = 4096;
    private const int PrefixSize = 8 + sizeof(long) + sizeof(uint); // magic, JSON length, JSON CRC-32C
    private const int ChecksumSize = sizeof(uint);

    private static readonly JsonSerializerOptions StrictJson = new()
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectRequiredConstructorParameters = true,
        RespectNullableAnnotations = true,
    };

    private readonly string _path;
    private readonly string _tag;
    private readonly string _tagMismatch;
    private readonly bool[] _filled;
    private MemoryMappedFile? _file;
    private MemoryMappedViewAccessor? _view;
    private long[] _offsets = Array.Empty<long>();
    private long _checksumOffset;
    private long _filledOffset;

    /// <summary>Opens the store at <paramref name="path"/> if the file exists (checking it), or prepares a new one.</summary>
    /// <param name="path">The file.</param>
    /// <param name="sampleCount">The number of samples (&gt;= 1).</param>
    /// <param name="tag">What the contents are valid for (e.g. a fingerprint of the model that produced them); a file with another tag is refused.</param>
    /// <param name="tagMismatch">Explains a tag mismatch in the error (default: "it was written with a different tag").</param>
    /// <exception cref="ArgumentException">The path is empty.</exception>
    /// <exception cref="InvalidDataException">
    /// The file is not a sample store, is a format-1 store (no checksums), or is corrupted: its header does not fit the
    /// file or does not match its checksum, a field's region exceeds the file, or a "written" flag is not 0 or 1.
    /// The message names the file and the part that is wrong.
    /// </exception>
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
        if (header.Length > HeaderSize - PrefixSize)
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
            stream.Write(BitConverter.GetBytes(Checksum(header)));
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
        var data = new Array[fields.Count];
        for (var f = 0; f < fields.Count; f++)
        {
            var n = (int)fields[f].RowElements;
            using var cpu = rows[f].detach().to(fields[f].ElementType).cpu().contiguous();
            if (fields[f].ElementType == ScalarType.Float64)
            {
                var values = cpu.data<double>().ToArray();
                data[f] = values;
                for (var b = 0; b < host.Length; b++)
                {
                    view.WriteArray(_offsets[f] + (host[b] * fields[f].RowBytes), values, b * n, n);
                }
            }
            else
            {
                var values = cpu.data<float>().ToArray();
                data[f] = values;
                for (var b = 0; b < host.Length; b++)
                {
                    view.WriteArray(_offsets[f] + (host[b] * fields[f].RowBytes), values, b * n, n);
                }
            }
        }

        // Rows first, then their checksum, then the flag: an interrupted write leaves a new sample unwritten, or an
        // overwritten one failing its checksum, never a sample that reads as valid with mixed rows.
        for (var b = 0; b < host.Length; b++)
        {
            view.Write(_checksumOffset + (host[b] * ChecksumSize), RowChecksum(fields, host[b], data, b));
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
        var view = _view!;
        var data = new Array[fields.Count];
        for (var f = 0; f < fields.Count; f++)
        {
            var n = (int)fields[f].RowElements;
            if (fields[f].ElementType == ScalarType.Float64)
            {
                var values = new double[host.Length * n];
                data[f] = values;
                for (var b = 0; b < host.Length; b++)
                {
                    view.ReadArray(_offsets[f] + (host[b] * fields[f].RowBytes), values, b * n, n);
                }
            }
            else
            {
                var values = new float[host.Length * n];
                data[f] = values;
                for (var b = 0; b < host.Length; b++)
                {
                    view.ReadArray(_offsets[f] + (host[b] * fields[f].RowBytes), values, b * n, n);
                }
            }
        }

        for (var b = 0; b < host.Length; b++)
        {
            if (!_filled[host[b]])
            {
                continue; // never written (or forgotten): no checksum to hold it to
            }

            var stored = view.ReadUInt32(_checksumOffset + (host[b] * ChecksumSize));
            var computed = RowChecksum(fields, host[b], data, b);
            if (stored != computed)
            {
                throw new InvalidDataException(
                    $"The sample store '{_path}' is corrupted: the rows of sample {host[b]} do not match their checksum (stored 0x{stored:X8}, " +
                    $"computed 0x{computed:X8}); the file was altered after they were written. Delete the file (a teacher cache is rebuilt on the next run).");
            }
        }

        var result = new Tensor[fields.Count];
        for (var f = 0; f < fields.Count; f++)
        {
            var shape = fields[f].RowShape.Prepend(host.Length).ToArray();
            result[f] = data[f] is double[] doubles ? tensor(doubles, shape).to(device) : tensor((float[])data[f], shape).to(device);
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

    /// <summary>
    /// Merges stores that hold disjoint sets of written samples (shards of one cache, each built by another process or
    /// machine over its own index range) into a new store at <paramref name="outputPath"/>. Every shard is opened with
    /// <paramref name="tag"/> and <paramref name="sampleCount"/> (so a shard made for other contents or data is refused
    /// as when reopening a store), must hold the same fields as the first, and no sample may be written in two shards.
    /// Each shard's rows, checksums and flags are copied exactly, so the result is byte for byte the store one process
    /// would have written with the same rows. The output is written to a temporary file and renamed when complete.
    /// </summary>
    /// <param name="outputPath">The merged store; must not exist.</param>
    /// <param name="shardPaths">The shard files (at least one).</param>
    /// <param name="sampleCount">The sample count of every shard.</param>
    /// <param name="tag">The tag of every shard.</param>
    /// <param name="tagMismatch">Explains a shard's tag mismatch in the error.</param>
    /// <param name="cancellationToken">Checked between chunks of samples.</param>
    /// <returns>The number of samples written in the merged store.</returns>
    /// <exception cref="ArgumentException">No shards, a shard is missing, or the output exists.</exception>
    /// <exception cref="InvalidOperationException">A shard has another tag, sample count or fields, or two shards hold the same sample.</exception>
    /// <exception cref="InvalidDataException">A shard is corrupted (see the constructor), or a row fails its checksum.</exception>
    public static long Merge(string outputPath, IReadOnlyList<string> shardPaths, long sampleCount, string tag = "", string? tagMismatch = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputPath);
        ArgumentNullException.ThrowIfNull(shardPaths);
        if (shardPaths.Count == 0)
        {
            throw new ArgumentException("Merging needs at least one shard.", nameof(shardPaths));
        }

        if (File.Exists(outputPath))
        {
            throw new ArgumentException($"The merged store '{outputPath}' already exists; merge into a new path.", nameof(outputPath));
        }

        var owner = new Dictionary<long, string>();
        var temporary = outputPath + ".merging";
        File.Delete(temporary);
        try
        {
            using (var output = new DiskSampleStore(temporary, sampleCount, tag, tagMismatch))
            {
                foreach (var shardPath in shardPaths)
                {
                    if (!File.Exists(shardPath))
                    {
                        throw new ArgumentException($"The shard '{shardPath}' does not exist.", nameof(shardPaths));
                    }

                    using var shard = new DiskSampleStore(shardPath, sampleCount, tag, tagMismatch);
                    if (shard.Fields is not { } fields)
                    {
                        continue; // an empty shard (no sample in its range)
                    }

                    if (output.Fields is { } merged && !merged.Select(f => f.ToString()).SequenceEqual(fields.Select(f => f.ToString())))
                    {
                        throw new InvalidOperationException(
                            $"The shard '{shardPath}' holds the fields [{string.Join(", ", fields)}], but the earlier shards hold [{string.Join(", ", merged)}]; " +
                            "shards of one store must be built with the same outputs.");
                    }

                    output.Initialize(fields);
                    var filled = new List<long>();
                    for (long i = 0; i < sampleCount; i++)
                    {
                        if (shard._filled[i])
                        {
                            filled.Add(i);
                        }
                    }

                    foreach (var index in filled)
                    {
                        if (!owner.TryAdd(index, shardPath))
                        {
                            throw new InvalidOperationException(
                                $"Sample {index} is written in both '{owner[index]}' and '{shardPath}'; shards must cover disjoint index ranges.");
                        }
                    }

                    for (var start = 0; start < filled.Count; start += 1024)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        using var scope = NewDisposeScope();
                        var chunk = tensor(filled.GetRange(start, Math.Min(1024, filled.Count - start)).ToArray(), ScalarType.Int64);
                        output.Write(chunk, shard.Read(chunk, CPU)); // Read checks every row's checksum; Write recomputes the same bytes
                    }
                }

                if (output.Fields is null)
                {
                    throw new ArgumentException("Every shard is empty (no shard holds a written sample); there is nothing to merge.", nameof(shardPaths));
                }
            }

            File.Move(temporary, outputPath);
            return owner.Count;
        }
        finally
        {
            File.Delete(temporary);
        }
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
        var fileLength = new FileInfo(_path).Length;
        var json = ReadHeaderJson(fileLength, out var storedChecksum);
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw Corrupt("its header JSON is not valid UTF-8");
        }

        Header? header;
        try
        {
            header = JsonSerializer.Deserialize<Header>(json, StrictJson);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw Corrupt($"its header JSON is not a sample-store header ({e.Message})");
        }

        if (header is null)
        {
            throw Corrupt("its header JSON is null");
        }

        if (header.SampleCount < 1)
        {
            throw Corrupt($"its header's SampleCount is {header.SampleCount}; expected >= 1");
        }

        Fields = ParseFields(header.Fields);
        ComputeOffsets(header.SampleCount, fileLength);

        // Structure first (the messages above name the part), then the checksum catches any other alteration of the
        // header (a changed tag, count or field name would otherwise pass as a different but valid store).
        if (Checksum(json) != storedChecksum)
        {
            throw Corrupt($"its header does not match its checksum (stored 0x{storedChecksum:X8}, computed 0x{Checksum(json):X8}); the header was altered");
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

        if (fileLength != _filledOffset + SampleCount)
        {
            throw Corrupt($"it has {fileLength} bytes, but its header describes {_filledOffset + SampleCount}; the file is truncated or was extended");
        }

        Map();
        for (long i = 0; i < SampleCount; i++)
        {
            var flag = _view!.ReadByte(_filledOffset + i);
            if (flag > 1)
            {
                Dispose();
                throw Corrupt($"the \"written\" flag of sample {i} is {flag}; expected 0 or 1");
            }

            if (flag == 1)
            {
                _filled[i] = true;
                FilledCount++;
            }
        }
    }

    /// <summary>Reads and checks the fixed prefix, returning the header JSON (at most 4 KiB) and its stored checksum.</summary>
    private byte[] ReadHeaderJson(long fileLength, out uint storedChecksum)
    {
        using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read);
        var prefix = new byte[PrefixSize];
        var got = stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false);
        if (got >= MagicFormat1.Length && prefix.AsSpan(0, MagicFormat1.Length).SequenceEqual(MagicFormat1))
        {
            throw new InvalidDataException(
                $"'{_path}' is a format-1 sample store (written by an earlier version, without row checksums); this version reads format 2. " +
                "Delete the file: a teacher cache is rebuilt on the next run.");
        }

        if (got < Magic.Length || !prefix.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"'{_path}' is not a sample-store file (expected the magic 'KDSAMPL2').");
        }

        if (fileLength < HeaderSize)
        {
            throw Corrupt($"it has {fileLength} bytes, less than its {HeaderSize}-byte header; the file is truncated");
        }

        var length = BitConverter.ToInt64(prefix, Magic.Length);
        if (length <= 0 || length > HeaderSize - PrefixSize)
        {
            throw Corrupt($"its header length is {length}; expected 1..{HeaderSize - PrefixSize} (the JSON must fit the {HeaderSize}-byte header)");
        }

        storedChecksum = BitConverter.ToUInt32(prefix, Magic.Length + sizeof(long));
        var json = new byte[length];
        stream.ReadExactly(json);
        return json;
    }

    private SampleField[] ParseFields(HeaderField[] fields)
    {
        if (fields.Length == 0)
        {
            throw Corrupt("its header lists no fields; expected at least one");
        }

        var parsed = new SampleField[fields.Length];
        for (var f = 0; f < fields.Length; f++)
        {
            var field = fields[f] ?? throw Corrupt($"field {f} of its header is null; expected a name, a row shape and an element type");
            var type = field.ElementType switch
            {
                nameof(ScalarType.Float32) => ScalarType.Float32,
                nameof(ScalarType.Float64) => ScalarType.Float64,
                _ => throw Corrupt($"field {f} ('{field.Name}') has element type '{field.ElementType}'; expected Float32 or Float64"),
            };
            if (field.RowShape.Any(d => d < 1))
            {
                throw Corrupt($"field {f} ('{field.Name}') has row shape {Guard.FormatShape(field.RowShape)}; expected every dimension >= 1");
            }

            try
            {
                parsed[f] = new SampleField(field.Name, field.RowShape, type);
            }
            catch (ArgumentException e)
            {
                throw Corrupt($"field {f} ('{field.Name}') is not a valid field: {e.Message}");
            }

            if (parsed.Take(f).Any(p => p.Name == field.Name))
            {
                throw Corrupt($"field {f} ('{field.Name}') repeats an earlier field's name; expected unique names");
            }
        }

        return parsed;
    }

    private InvalidDataException Corrupt(string what) => new($"The sample store '{_path}' is corrupted: {what}.");

    private void ComputeOffsets() => ComputeOffsets(SampleCount, long.MaxValue);

    /// <summary>Lays out the regions, checking (without overflow) that each fits in <paramref name="fileLength"/> bytes.</summary>
    private void ComputeOffsets(long sampleCount, long fileLength)
    {
        _offsets = new long[Fields!.Count];
        var offset = HeaderSize;
        for (var f = 0; f < Fields.Count; f++)
        {
            _offsets[f] = offset;
            var field = Fields[f];
            var rowBytes = 1L;
            var fits = true;
            foreach (var d in field.RowShape.Append(field.ElementType == ScalarType.Float64 ? sizeof(double) : sizeof(float)).Append(sampleCount))
            {
                fits &= rowBytes <= (fileLength - offset) / d;
                rowBytes = fits ? rowBytes * d : 0;
            }

            if (!fits)
            {
                throw Corrupt(
                    $"field {f} ('{field}') needs {sampleCount} x {Guard.FormatShape(field.RowShape)} values at byte {offset}, which exceeds the file's {fileLength} bytes");
            }

            offset += rowBytes;
        }

        if ((fileLength - offset) / (ChecksumSize + 1) < sampleCount)
        {
            throw Corrupt($"its checksums and \"written\" flags ({sampleCount} x {ChecksumSize + 1} bytes at byte {offset}) exceed the file's {fileLength} bytes");
        }

        _checksumOffset = offset;
        _filledOffset = offset + (sampleCount * ChecksumSize);
    }

    /// <summary>CRC-32C of one sample's rows in every field, seeded with its index (a row moved to another sample does not pass).</summary>
    private static uint RowChecksum(IReadOnlyList<SampleField> fields, long index, Array[] data, int position)
    {
        var crc = BitOperations.Crc32C(uint.MaxValue, (ulong)index);
        for (var f = 0; f < fields.Count; f++)
        {
            var n = (int)fields[f].RowElements;
            crc = data[f] is double[] doubles
                ? Crc(crc, MemoryMarshal.AsBytes(doubles.AsSpan(position * n, n)))
                : Crc(crc, MemoryMarshal.AsBytes(((float[])data[f]).AsSpan(position * n, n)));
        }

        return ~crc;
    }

    private static uint Checksum(ReadOnlySpan<byte> bytes) => ~Crc(uint.MaxValue, bytes);

    private static uint Crc(uint crc, ReadOnlySpan<byte> bytes)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var word in words)
        {
            crc = BitOperations.Crc32C(crc, word);
        }

        for (var i = words.Length * sizeof(ulong); i < bytes.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, bytes[i]);
        }

        return crc;
    }

    private void Map()
    {
        _file = MemoryMappedFile.CreateFromFile(_path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
    }

    private sealed record Header(string Tag, long SampleCount, HeaderField[] Fields);

    private sealed record HeaderField(string Name, long[] RowShape, string ElementType);
}
