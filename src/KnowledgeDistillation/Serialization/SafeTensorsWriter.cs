using KnowledgeDistillation.Internal;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Serialization;

/// <summary>
/// Writes named tensors to a <see href="https://github.com/huggingface/safetensors">safetensors</see> file that
/// PyTorch's <c>safetensors.torch.load_file</c> (and <see cref="SafeTensorsFile"/>) can read.
/// </summary>
/// <remarks>
/// The layout follows the reference implementation: tensors ordered by decreasing element size, then by
/// name (ordinal), so every tensor's offset is a multiple of its element size; the header lists
/// <c>__metadata__</c> first, then the tensors in data order, and is padded with spaces so that the data
/// section starts at a multiple of 8 bytes. The file is written to a temporary file in the same directory,
/// flushed to disk and then renamed over <c>path</c>, so readers never see a partial file. Tensors on
/// other devices are copied to the CPU one at a time; memory beyond the tensors themselves is bounded
/// by one tensor and a 1 MiB buffer.
/// </remarks>
public static class SafeTensorsWriter
{
    private const int CopyBufferBytes = 1 << 20;

    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes <paramref name="tensors"/> (and optional metadata) to <paramref name="path"/>, replacing any existing file.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="tensors">The tensors by name. Names must be unique and non-empty, and must not be <c>__metadata__</c>.</param>
    /// <param name="metadata">Optional string metadata, stored under <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">A name is empty, repeated or reserved, or a tensor's element type has no safetensors dtype (complex, quantized).</exception>
    /// <exception cref="ArgumentNullException">An argument, a tensor or a metadata value is null.</exception>
    /// <exception cref="PlatformNotSupportedException">The process is big-endian.</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Write(path, tensors, metadata, nameof(tensors));

    /// <summary>As the public overload, with <paramref name="tensorsParamName"/> named in exceptions about the tensors.</summary>
    internal static void Write(
        string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata, string tensorsParamName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(tensors);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Writing safetensors files requires a little-endian process.");
        }

        var entries = Validate(tensors, metadata, tensorsParamName);
        var header = Header(entries, metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var entry in entries)
            {
                WriteData(stream, entry.Tensor, entry.Bytes);
            }
        });
    }

    private static List<Entry> Validate(
        IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata, string paramName)
    {
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException("Tensor names must be non-empty.", paramName);
            }

            if (name == SafeTensorsHeader.MetadataKey)
            {
                throw new ArgumentException($"'{SafeTensorsHeader.MetadataKey}' is reserved for metadata and cannot name a tensor.", paramName);
            }

            if (!names.Add(name))
            {
                throw new ArgumentException($"Tensor name '{name}' appears more than once.", paramName);
            }

            if (tensor is null)
            {
                throw new ArgumentNullException(paramName, $"Tensor '{name}' is null.");
            }

            var dtype = SafeTensorsDTypes.FromScalarType(tensor.dtype)
                ?? throw new ArgumentException($"Tensor '{name}' has element type {tensor.dtype}, which safetensors cannot store; " +
                    $"supported: {SafeTensorsDTypes.SupportedList}.", paramName);
            var shape = tensor.shape;
            entries.Add(new Entry(name, tensor, dtype, shape, checked(tensor.numel() * SafeTensorsDTypes.ElementSize(dtype))));
        }

        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                if (key is null || value is null)
                {
                    throw new ArgumentNullException(nameof(metadata), $"Metadata key '{key}' has a null value.");
                }
            }
        }

        entries.Sort((a, b) =>
        {
            var bySize = SafeTensorsDTypes.ElementSize(b.DType).CompareTo(SafeTensorsDTypes.ElementSize(a.DType));
            return bySize != 0 ? bySize : string.CompareOrdinal(a.Name, b.Name);
        });
        return entries;
    }

    private static byte[] Header(List<Entry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafeTensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            var offset = 0L;
            foreach (var entry in entries)
            {
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", SafeTensorsDTypes.Code(entry.DType));
                json.WriteStartArray("shape");
                foreach (var size in entry.Shape)
                {
                    json.WriteNumberValue(size);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += entry.Bytes;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        // Pad with spaces so that the data section (after the 8-byte length and the header) starts 8-byte aligned.
        var padding = (int)((8 - (buffer.Length % 8)) % 8);
        for (var i = 0; i < padding; i++)
        {
            buffer.WriteByte((byte)' ');
        }

        return buffer.ToArray();
    }

    private static void WriteData(Stream stream, Tensor tensor, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        // Tensors made in this scope (detached alias, CPU copy, contiguous copy) are disposed with it; the caller's is not.
        using var scope = NewDisposeScope();
        var data = tensor.detach().cpu().contiguous();
        data.WriteBytesToStream(stream, (int)Math.Min(bytes, CopyBufferBytes));
    }

    private sealed record Entry(string Name, Tensor Tensor, SafeTensorsDType DType, long[] Shape, long Bytes);
}
