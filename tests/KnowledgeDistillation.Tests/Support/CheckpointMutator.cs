using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>
/// Decodes a checkpoint (magic, JSON length, JSON header, binary payload, SHA-256 trailer, end marker), lets a test
/// change the header or the payload, and writes it back with a consistent trailer: the file passes the checksum, so
/// only the field checks can refuse it.
/// </summary>
internal sealed class CheckpointMutator
{
    private const int MagicLength = 8;
    private static readonly byte[] EndMarker = "KDCKEND\0"u8.ToArray();

    private CheckpointMutator(byte[] magic, JsonObject header, byte[] payload)
    {
        Magic = magic;
        Header = header;
        Payload = payload;
    }

    public byte[] Magic { get; }

    /// <summary>The JSON header, editable.</summary>
    public JsonObject Header { get; set; }

    /// <summary>Module blocks, loss state, optimiser state, then the random generator state (an Int32 length and the bytes).</summary>
    public byte[] Payload { get; set; }

    public static CheckpointMutator Decode(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var magic = bytes[..MagicLength];
        var jsonLength = checked((int)BitConverter.ToInt64(bytes, MagicLength));
        var jsonStart = MagicLength + 8;
        var header = (JsonObject)JsonNode.Parse(bytes.AsSpan(jsonStart, jsonLength))!;
        var payloadStart = jsonStart + jsonLength;
        var payloadEnd = bytes.Length - 32 - EndMarker.Length;
        return new CheckpointMutator(magic, header, bytes[payloadStart..payloadEnd]);
    }

    /// <summary>Where the random generator state's length sits in <see cref="Payload"/>, given the state's size.</summary>
    public int RngLengthOffset(int rngBytes) => Payload.Length - rngBytes - 4;

    /// <summary>Writes the (changed) checkpoint with a trailer that matches its content.</summary>
    public string WriteTo(string path)
    {
        var json = System.Text.Encoding.UTF8.GetBytes(Header.ToJsonString());
        using var content = new MemoryStream();
        content.Write(Magic);
        content.Write(BitConverter.GetBytes((long)json.Length));
        content.Write(json);
        content.Write(Payload);
        var hash = SHA256.HashData(content.ToArray());
        content.Write(hash);
        content.Write(EndMarker);
        File.WriteAllBytes(path, content.ToArray());
        return path;
    }
}
