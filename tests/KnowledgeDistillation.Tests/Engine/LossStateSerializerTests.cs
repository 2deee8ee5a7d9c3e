using FluentAssertions;
using KnowledgeDistillation.Engine;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary>Loss state in a checkpoint payload: round trip, and malformed fields rejected before any allocation or native call.</summary>
public sealed class LossStateSerializerTests
{
    [Fact]
    public void State_round_trips_exactly()
    {
        using var scope = NewDisposeScope();
        var source = new Recorder("s", new Dictionary<string, Tensor> { ["bank"] = randn(3, 4, ScalarType.Float64), ["count"] = tensor(new long[] { 7 }), ["mask"] = tensor(new[] { true, false }) });
        var target = new Recorder("s", new Dictionary<string, Tensor>());
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            LossStateSerializer.Write(writer, new[] { source });
        }

        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        LossStateSerializer.Read(reader, new[] { target }, "x.kdck");
        target.Imported.Keys.Should().Equal("bank", "count", "mask");
        target.Imported["bank"].eq(source.Exported["bank"]).all().item<bool>().Should().BeTrue();
        target.Imported["count"].item<long>().Should().Be(7);
    }

    [Theory]
    [InlineData("element type", 999, 1, 2, 8)]
    [InlineData("rank", 7, -1, 2, 8)]
    [InlineData("shape", 7, 1, -2, 8)]
    [InlineData("bytes", 7, 1, 2, 9)]
    [InlineData("bytes", 7, 1, 2, int.MaxValue)]
    public void Malformed_fields_are_invalid_data_naming_the_state_and_tensor(string what, int dtype, int rank, long size, int length)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write("s");
            writer.Write(1);
            writer.Write("bank");
            writer.Write(dtype); // 7 = Float64
            writer.Write(rank);
            for (var d = 0; d < Math.Max(rank, 0); d++)
            {
                writer.Write(size);
            }

            writer.Write(length);
            writer.Write(new byte[16]);
        }

        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        var act = () => LossStateSerializer.Read(reader, new[] { new Recorder("s", new Dictionary<string, Tensor>()) }, "x.kdck");
        act.Should().Throw<InvalidDataException>().WithMessage($"'x.kdck' is not a usable checkpoint: in loss state 's', tensor 'bank'*{what}*");
    }

    [Fact]
    public void A_state_of_another_name_is_refused()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write("other");
            writer.Write(0);
        }

        stream.Position = 0;
        using var reader = new BinaryReader(stream);
        var act = () => LossStateSerializer.Read(reader, new[] { new Recorder("s", new Dictionary<string, Tensor>()) }, "x.kdck");
        act.Should().Throw<InvalidDataException>().WithMessage("*loss state 'other' where this run has 's'*");
    }

    private sealed class Recorder(string name, Dictionary<string, Tensor> exported) : ILossState
    {
        public string Name => name;

        public Dictionary<string, Tensor> Exported => exported;

        public Dictionary<string, Tensor> Imported { get; } = new();

        public IReadOnlyDictionary<string, Tensor> Export() => exported;

        public void Import(IReadOnlyDictionary<string, Tensor> state)
        {
            foreach (var (key, value) in state)
            {
                Imported[key] = value.clone().DetachFromDisposeScope();
            }
        }
    }
}
