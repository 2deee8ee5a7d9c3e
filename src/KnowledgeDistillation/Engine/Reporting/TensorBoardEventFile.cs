using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using KnowledgeDistillation.IO;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Writes a TensorBoard event file: TFRecord framing (little-endian uint64 length, masked CRC-32C of the length, the
/// record, masked CRC-32C of the record) around <c>tensorflow.Event</c> protocol buffers, encoded by hand (wall time,
/// step, file version, and summaries of simple scalar values; nothing else is needed for scalars). The file is opened
/// for each write and closed again, so nothing stays open between epochs and nothing needs disposing.
/// </summary>
internal sealed class TensorBoardEventFile
{
    private static int _counter;

    /// <summary>Creates a new event file in <paramref name="directory"/> (created if missing) with its version record.</summary>
    public TensorBoardEventFile(string directory)
    {
        Directory.CreateDirectory(directory);
        var seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var name = $"events.out.tfevents.{seconds}.{Environment.MachineName}.{Environment.ProcessId}.{Interlocked.Increment(ref _counter)}";
        Path = System.IO.Path.Combine(directory, name);
        var header = new ProtoWriter();
        header.Double(1, WallTime());
        header.String(3, "brain.Event:2");
        using var stream = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        WriteRecord(stream, header.ToArray());
    }

    /// <summary>The event file's path.</summary>
    public string Path { get; }

    /// <summary>Appends one event holding every scalar at <paramref name="step"/>.</summary>
    public void WriteScalars(long step, IEnumerable<(string Tag, float Value)> scalars)
    {
        var summary = new ProtoWriter();
        foreach (var (tag, value) in scalars)
        {
            var entry = new ProtoWriter();
            entry.String(1, tag);
            entry.Float(2, value);
            summary.Message(1, entry);
        }

        var evnt = new ProtoWriter();
        evnt.Double(1, WallTime());
        evnt.Int64(2, step);
        evnt.Message(5, summary);
        using var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        WriteRecord(stream, evnt.ToArray());
    }

    private static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private static void WriteRecord(Stream stream, byte[] data)
    {
        Span<byte> length = stackalloc byte[8];
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)data.Length);
        stream.Write(length);
        BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32C.Masked(length));
        stream.Write(crc);
        stream.Write(data);
        BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32C.Masked(data));
        stream.Write(crc);
    }

    /// <summary>The few protocol-buffer wire types an event needs.</summary>
    private sealed class ProtoWriter
    {
        private readonly MemoryStream _buffer = new();

        public void Double(int field, double value)
        {
            Tag(field, 1);
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
            _buffer.Write(bytes);
        }

        public void Float(int field, float value)
        {
            Tag(field, 5);
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            _buffer.Write(bytes);
        }

        public void Int64(int field, long value)
        {
            Tag(field, 0);
            Varint((ulong)value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

        public byte[] ToArray() => _buffer.ToArray();

        private void Bytes(int field, byte[] bytes)
        {
            Tag(field, 2);
            Varint((ulong)bytes.Length);
            _buffer.Write(bytes);
        }

        private void Tag(int field, int wireType)
        {
            Debug.Assert(field > 0, "Protocol-buffer fields start at 1.");
            Varint((ulong)((field << 3) | wireType));
        }

        private void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _buffer.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _buffer.WriteByte((byte)value);
        }
    }
}
