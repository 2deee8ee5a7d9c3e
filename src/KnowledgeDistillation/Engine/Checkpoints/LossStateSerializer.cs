using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>Writes and reads the losses' <see cref="ILossState"/> in a checkpoint's payload: per state, named CPU tensors as dtype, shape and raw bytes.</summary>
internal static class LossStateSerializer
{
    public static void Write(BinaryWriter writer, IReadOnlyList<ILossState> states)
    {
        foreach (var state in states)
        {
            using var scope = NewDisposeScope();
            var tensors = state.Export();
            writer.Write(state.Name);
            writer.Write(tensors.Count);
            foreach (var (key, value) in tensors)
            {
                var host = value.detach().cpu().contiguous();
                writer.Write(key);
                writer.Write((int)host.dtype);
                writer.Write(host.shape.Length);
                foreach (var size in host.shape)
                {
                    writer.Write(size);
                }

                var bytes = host.bytes;
                writer.Write(bytes.Length);
                writer.Write(bytes);
            }
        }
    }

    public static void Read(BinaryReader reader, IReadOnlyList<ILossState> states, string path)
    {
        foreach (var state in states)
        {
            var name = reader.ReadString();
            if (name != state.Name)
            {
                throw new InvalidDataException($"'{path}' holds loss state '{name}' where this run has '{state.Name}'.");
            }

            using var scope = NewDisposeScope();
            var count = reader.ReadInt32();
            var tensors = new Dictionary<string, Tensor>(count);
            for (var i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var dtype = (ScalarType)reader.ReadInt32();
                var shape = new long[reader.ReadInt32()];
                for (var d = 0; d < shape.Length; d++)
                {
                    shape[d] = reader.ReadInt64();
                }

                var bytes = reader.ReadBytes(reader.ReadInt32());
                var value = empty(shape, dtype);
                value.bytes = bytes;
                tensors[key] = value;
            }

            state.Import(tensors);
        }
    }
}
