using System.Buffers.Binary;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Serialization;

/// <summary>
/// An open <see href="https://github.com/huggingface/safetensors">safetensors</see> file, as written by
/// Hugging Face's <c>safetensors</c> library for PyTorch: an 8-byte little-endian header length, a UTF-8 JSON
/// header naming each tensor's dtype, shape and byte range, then the raw little-endian tensor bytes.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Open"/> reads and validates only the header: the header length is checked against
/// <c>maxHeaderBytes</c> and the file length before anything is allocated; every entry must have a
/// supported dtype, a non-negative shape whose size in bytes (computed without overflow) equals its byte
/// range, and the byte ranges must cover the data section exactly, without overlaps or gaps, as the format
/// requires. Names are unique. Any problem raises an <see cref="InvalidDataException"/> naming the file, the
/// tensor and what is wrong.
/// </para>
/// <para>
/// Tensor data is read on demand, one tensor at a time (<see cref="ReadTensor"/>), so memory is bounded by
/// the tensor being read, not by the file. The file stays open (shared for reading) until the instance is
/// disposed. Instances are safe to use from several threads; reads are serialised.
/// </para>
/// </remarks>
public sealed class SafeTensorsFile : IDisposable
{
    /// <summary>The default cap on the JSON header, in bytes (100 MB, the limit of the reference implementation).</summary>
    public const long DefaultMaxHeaderBytes = 100_000_000;

    private const int CopyBufferBytes = 1 << 20;

    private readonly FileStream _stream;
    private readonly SafeTensorsHeader _header;
    private readonly long _dataStart;
    private readonly object _gate = new();
    private bool _disposed;

    private SafeTensorsFile(string path, FileStream stream, SafeTensorsHeader header, long dataStart)
    {
        Path = path;
        _stream = stream;
        _header = header;
        _dataStart = dataStart;
    }

    /// <summary>The path the file was opened with.</summary>
    public string Path { get; }

    /// <summary>The tensors in the file, in the order of their data.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors => _header.Tensors;

    /// <summary>The <c>__metadata__</c> string map of the header; empty when the file has none.</summary>
    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    /// <summary>Opens a safetensors file and validates its header. No tensor data is read.</summary>
    /// <param name="path">The file to open.</param>
    /// <param name="maxHeaderBytes">The largest JSON header accepted, in bytes (at least 2).</param>
    /// <returns>The open file; dispose it to close the file.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxHeaderBytes"/> is below 2 or above <see cref="int.MaxValue"/>.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file.</exception>
    /// <exception cref="PlatformNotSupportedException">The process is big-endian.</exception>
    public static SafeTensorsFile Open(string path, long maxHeaderBytes = DefaultMaxHeaderBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (maxHeaderBytes < 2 || maxHeaderBytes > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(maxHeaderBytes), maxHeaderBytes, $"'{nameof(maxHeaderBytes)}' must be in [2, {int.MaxValue}].");
        }

        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Reading safetensors files requires a little-endian process.");
        }

        // Unbuffered: reads are large (the header, then 1 MiB chunks), and no stale bytes are cached between reads.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.RandomAccess);
        try
        {
            var (header, dataStart) = ReadHeader(stream, path, maxHeaderBytes);
            return new SafeTensorsFile(path, stream, header, dataStart);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file has a tensor named <paramref name="name"/>.</summary>
    /// <param name="name">The tensor's name in the file.</param>
    public bool Contains(string name) => _header.ByName.ContainsKey(name);

    /// <summary>The header entry of the tensor named <paramref name="name"/>.</summary>
    /// <param name="name">The tensor's name in the file.</param>
    /// <exception cref="KeyNotFoundException">The file has no such tensor.</exception>
    public SafeTensorInfo GetInfo(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _header.ByName.TryGetValue(name, out var info)
            ? info
            : throw new KeyNotFoundException($"Safetensors file '{Path}' has no tensor named '{name}'.");
    }

    /// <summary>
    /// Reads one tensor into a new CPU tensor of the matching element type (<see cref="SafeTensorInfo.ScalarType"/>),
    /// which the caller owns (it joins the current dispose scope, if any).
    /// </summary>
    /// <param name="name">The tensor's name in the file.</param>
    /// <returns>A new tensor with the file's shape and values.</returns>
    /// <exception cref="KeyNotFoundException">The file has no such tensor.</exception>
    /// <exception cref="InvalidDataException">The data is invalid (a BOOL byte other than 0 or 1) or the file was truncated after it was opened.</exception>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public Tensor ReadTensor(string name)
    {
        var info = GetInfo(name);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _stream.Seek(_dataStart + info.DataOffset, SeekOrigin.Begin);

            // BOOL is read as bytes and checked: libtorch assumes every bool byte is 0 or 1.
            var readAs = info.DType == SafeTensorsDType.Bool ? ScalarType.Byte : info.ScalarType;
            var shape = info.Shape.ToArray();
            var result = empty(shape, readAs);
            try
            {
                Fill(result, info);
                if (info.DType != SafeTensorsDType.Bool)
                {
                    return result;
                }

                using (var bytes = result)
                {
                    CheckBooleans(bytes, info);
                    return bytes.to_type(ScalarType.Bool);
                }
            }
            catch
            {
                result.Dispose();
                throw;
            }
        }
    }

    /// <summary>Reads every tensor into new CPU tensors, which the caller owns. Needs memory for all of them at once.</summary>
    /// <returns>The tensors by name, in the order of their data.</returns>
    /// <exception cref="InvalidDataException">The data of a tensor is invalid; tensors already read are disposed.</exception>
    public Dictionary<string, Tensor> ReadAll()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var info in Tensors)
            {
                result.Add(info.Name, ReadTensor(info.Name));
            }

            return result;
        }
        catch
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }

            throw;
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _stream.Dispose();
        }
    }

    private static (SafeTensorsHeader Header, long DataStart) ReadHeader(FileStream stream, string path, long maxHeaderBytes)
    {
        var fileLength = stream.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
        {
            throw SafeTensorsHeader.Invalid(path, $"it is {fileLength} bytes long; a safetensors file starts with an " +
                "8-byte little-endian header length.");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        var available = (ulong)(fileLength - 8);
        if (headerLength > (ulong)maxHeaderBytes)
        {
            throw SafeTensorsHeader.Invalid(path, $"the header length is {headerLength} bytes, above the limit of " +
                $"{maxHeaderBytes} bytes{(headerLength > available ? $" (and the file has only {available} bytes after the length)" : string.Empty)}. " +
                "Is this a safetensors file?");
        }

        if (headerLength > available)
        {
            throw SafeTensorsHeader.Invalid(path, $"the header length is {headerLength} bytes but only {available} bytes " +
                "follow the length. The file is truncated or is not a safetensors file.");
        }

        var json = new byte[headerLength];
        var got = stream.ReadAtLeast(json, json.Length, throwOnEndOfStream: false);
        if (got < json.Length)
        {
            throw SafeTensorsHeader.Invalid(path, $"truncated header: expected {headerLength} bytes, read {got}.");
        }

        var dataStart = 8 + (long)headerLength;
        return (SafeTensorsHeader.Parse(json, fileLength - dataStart, path), dataStart);
    }

    private void Fill(Tensor target, SafeTensorInfo info)
    {
        try
        {
            target.ReadBytesFromStream(_stream, (int)Math.Clamp(info.ByteLength, 1, CopyBufferBytes));
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException(SafeTensorsHeader.Message(Path,
                $"tensor '{info.Name}': the file ended inside its data; was it truncated after it was opened?"), e);
        }
    }

    private void CheckBooleans(Tensor bytes, SafeTensorInfo info)
    {
        if (info.ElementCount == 0)
        {
            return;
        }

        using var max = bytes.max();
        var largest = max.item<byte>();
        if (largest > 1)
        {
            throw SafeTensorsHeader.InvalidTensor(Path, info.Name, $"BOOL data must be 0 or 1 in every byte; found {largest}.");
        }
    }
}
