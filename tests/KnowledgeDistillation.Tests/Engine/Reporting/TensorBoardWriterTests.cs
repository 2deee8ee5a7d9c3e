using System.Buffers.Binary;
using System.Text;
using FluentAssertions;
using KnowledgeDistillation.Engine;
using Xunit;

namespace KnowledgeDistillation.Tests.Engine.Reporting;

public sealed class TensorBoardWriterTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"kd-tb-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void The_reference_crc32c_matches_the_published_check_value()
    {
        ReferenceCrc32C(Encoding.ASCII.GetBytes("123456789")).Should().Be(0xE3069283u);
    }

    [Fact]
    public void Event_file_records_are_framed_and_hold_each_epochs_scalars_at_the_global_step()
    {
        TensorBoardWriter? writer = null;
        var result = ReportingRun.Fit(d =>
        {
            writer = new TensorBoardWriter(_directory);
            d.Callbacks.Add(writer);
        });

        var files = Directory.GetFiles(_directory);
        files.Should().ContainSingle().Which.Should().Be(writer!.FilePath);
        Path.GetFileName(files[0]).Should().StartWith("events.out.tfevents.");

        var events = ReadRecords(File.ReadAllBytes(files[0])).Select(ParseEvent).ToArray();
        events.Should().HaveCount(1 + result.History.Count);
        events[0].FileVersion.Should().Be("brain.Event:2");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        events.Should().OnlyContain(e => Math.Abs(e.WallTime - now) < 600, "wall time is in seconds since 1970");

        for (var i = 0; i < result.History.Count; i++)
        {
            var record = result.History[i];
            events[i + 1].Step.Should().Be((i + 1) * 4L);
            var expected = MetricsWriterTests.Expected(record).Select(e => ($"distill/{e.Name}", (float)e.Value)).ToArray();
            events[i + 1].Values.Should().Equal(expected);
        }
    }

    /// <summary>Splits TFRecord framing, checking both masked CRC-32C values of every record.</summary>
    private static IEnumerable<byte[]> ReadRecords(byte[] file)
    {
        var offset = 0;
        while (offset < file.Length)
        {
            file.Length.Should().BeGreaterThanOrEqualTo(offset + 12);
            var lengthBytes = file.AsSpan(offset, 8);
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 8, 4)).Should().Be(Masked(lengthBytes.ToArray()), "the length's CRC");
            var data = file.AsSpan(offset + 12, length).ToArray();
            BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(offset + 12 + length, 4)).Should().Be(Masked(data), "the record's CRC");
            offset += 12 + length + 4;
            yield return data;
        }
    }

    private static TestEvent ParseEvent(byte[] data)
    {
        var result = new TestEvent();
        foreach (var (field, wire, value, bytes) in Fields(data))
        {
            switch (field)
            {
                case 1 when wire == 1: result.WallTime = BitConverter.Int64BitsToDouble((long)value); break;
                case 2 when wire == 0: result.Step = (long)value; break;
                case 3 when wire == 2: result.FileVersion = Encoding.UTF8.GetString(bytes!); break;
                case 5 when wire == 2:
                    foreach (var (summaryField, _, _, entry) in Fields(bytes!))
                    {
                        summaryField.Should().Be(1, "Summary.value is field 1");
                        string? tag = null;
                        float? simple = null;
                        foreach (var (valueField, valueWire, raw, text) in Fields(entry!))
                        {
                            if (valueField == 1 && valueWire == 2)
                            {
                                tag = Encoding.UTF8.GetString(text!);
                            }
                            else if (valueField == 2 && valueWire == 5)
                            {
                                simple = BitConverter.Int32BitsToSingle((int)raw);
                            }
                        }

                        result.Values.Add((tag!, simple!.Value));
                    }

                    break;
                default: throw new InvalidDataException($"Unexpected field {field} (wire type {wire}) in an event.");
            }
        }

        return result;
    }

    /// <summary>Protocol-buffer fields: number, wire type, the varint/fixed value, or the bytes of a length-delimited field.</summary>
    private static IEnumerable<(int Field, int Wire, ulong Value, byte[]? Bytes)> Fields(byte[] data)
    {
        var i = 0;
        while (i < data.Length)
        {
            var key = Varint(data, ref i);
            var field = (int)(key >> 3);
            var wire = (int)(key & 7);
            switch (wire)
            {
                case 0: yield return (field, wire, Varint(data, ref i), null); break;
                case 1: yield return (field, wire, BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(i, 8)), null); i += 8; break;
                case 5: yield return (field, wire, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(i, 4)), null); i += 4; break;
                case 2:
                    var length = (int)Varint(data, ref i);
                    yield return (field, wire, 0, data.AsSpan(i, length).ToArray());
                    i += length;
                    break;
                default: throw new InvalidDataException($"Unexpected wire type {wire}.");
            }
        }
    }

    private static ulong Varint(byte[] data, ref int i)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = data[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    private static uint Masked(byte[] data)
    {
        var crc = ReferenceCrc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    /// <summary>Bit-by-bit CRC-32C (no table), independent of the library's table-driven one.</summary>
    private static uint ReferenceCrc32C(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
            }
        }

        return ~crc;
    }

    private sealed class TestEvent
    {
        public double WallTime { get; set; }

        public long Step { get; set; }

        public string? FileVersion { get; set; }

        public List<(string Tag, float Value)> Values { get; } = new();
    }
}
