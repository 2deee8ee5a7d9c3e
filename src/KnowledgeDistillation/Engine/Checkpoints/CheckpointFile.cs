using KnowledgeDistillation.Internal;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// The checkpoint container: a magic, a JSON <see cref="CheckpointState"/>, a binary payload (module and
/// optimiser states, RNG state) and a SHA-256 trailer over everything before it. Written to a temporary
/// file in the same directory, flushed to disk, then renamed over the previous checkpoint (<see cref="AtomicFile"/>),
/// so a crash or SIGKILL at any moment leaves either the old or the new checkpoint, never a torn one.
/// </summary>
internal static class CheckpointFile
{
    private static readonly byte[] Magic = "KDCKPT\0\u0001"u8.ToArray();
    private static readonly byte[] EndMarker = "KDCKEND\0"u8.ToArray();

    internal static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };

    /// <summary>Writes a checkpoint atomically.</summary>
    public static void Write(string path, CheckpointState state, Action<BinaryWriter> writePayload)
    {
        AtomicFile.Write(
            path,
            file =>
            {
                using var hashing = new HashingStream(file);
                using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
                {
                    writer.Write(Magic);
                    var json = JsonSerializer.SerializeToUtf8Bytes(state, Json);
                    writer.Write((long)json.Length);
                    writer.Write(json);
                    writePayload(writer);
                    writer.Flush();
                }

                file.Write(hashing.Hash());
                file.Write(EndMarker);
            },
            createDirectory: true);
    }

    /// <summary>
    /// Verifies the trailer, then reads the state and hands the payload to <paramref name="readPayload"/> with the
    /// position where the payload ends (the trailer's start): a reader must not read past it.
    /// </summary>
    /// <exception cref="FileNotFoundException">No checkpoint at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, is truncated or corrupted.</exception>
    public static CheckpointState Read(string path, Action<CheckpointState, BinaryReader, long>? readPayload = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No checkpoint at '{path}'.", path);
        }

        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var trailer = 32 + EndMarker.Length;
        if (file.Length < Magic.Length + 8 + trailer)
        {
            throw Invalid(path, "it is too short to be a checkpoint");
        }

        VerifyTrailer(path, file, file.Length - trailer);
        file.Position = 0;
        using var reader = new BinaryReader(file, Encoding.UTF8, leaveOpen: true);
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
        {
            throw Invalid(path, "it does not start with the checkpoint magic");
        }

        var jsonLength = reader.ReadInt64();
        if (jsonLength <= 0 || jsonLength > file.Length - trailer - file.Position)
        {
            throw Invalid(path, $"its header length {jsonLength} is out of range");
        }

        CheckpointState state;
        try
        {
            state = JsonSerializer.Deserialize<CheckpointState>(reader.ReadBytes((int)jsonLength), Json)
                ?? throw Invalid(path, "its header is empty");
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"its header is not valid JSON ({e.Message})");
        }

        if (state.Format != CheckpointState.CurrentFormat)
        {
            throw Invalid(path, $"it has format {state.Format}; this version reads format {CheckpointState.CurrentFormat}");
        }

        readPayload?.Invoke(state, reader, file.Length - trailer);
        return state;
    }

    private static void VerifyTrailer(string path, FileStream file, long contentLength)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        var remaining = contentLength;
        while (remaining > 0)
        {
            var read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (read == 0)
            {
                throw Invalid(path, "it ended early");
            }

            hash.AppendData(buffer, 0, read);
            remaining -= read;
        }

        var expected = new byte[32];
        file.ReadExactly(expected);
        var end = new byte[EndMarker.Length];
        file.ReadExactly(end);
        if (!end.AsSpan().SequenceEqual(EndMarker) || !hash.GetHashAndReset().AsSpan().SequenceEqual(expected))
        {
            throw Invalid(path, "its checksum does not match (truncated or corrupted)");
        }
    }

    private static InvalidDataException Invalid(string path, string why) => new($"'{path}' is not a usable checkpoint: {why}.");

    /// <summary>A write-only stream that hashes what passes through it.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => throw new NotSupportedException("A checkpoint is written sequentially.");
        }

        public byte[] Hash() => _hash.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count)
        {
            _hash.AppendData(buffer, offset, count);
            inner.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            inner.Write(buffer);
        }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("A checkpoint is written sequentially.");

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException("A checkpoint is written sequentially.");

        public override void SetLength(long value) => throw new NotSupportedException("A checkpoint is written sequentially.");

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
