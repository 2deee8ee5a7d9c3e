using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>Writes and reads the losses' <see cref="ILossState"/> in a checkpoint's payload: per state, named CPU tensors as dtype, shape and raw bytes.</summary>
internal static class LossStateSerializer
{
    private const int MaxTensorsPerState = 4096;
    private const int MaxRank = 16;

    private static readonly Dictionary<ScalarType, int> ElementSizes = new()
    {
        [ScalarType.Bool] = 1, [ScalarType.Byte] = 1, [ScalarType.Int8] = 1, [ScalarType.Int16] = 2, [ScalarType.Int32] = 4,
        [ScalarType.Int64] = 8, [ScalarType.Float16] = 2, [ScalarType.BFloat16] = 2, [ScalarType.Float32] = 4, [ScalarType.Float64] = 8,
    };

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
                if (!ElementSizes.ContainsKey(host.dtype))
                {
                    throw new InvalidOperationException(
                        $"Loss state '{state.Name}' exports '{key}' as {host.dtype}; checkpoints store {string.Join(", ", ElementSizes.Keys)}.");
                }

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
            var count = ReadStateHeader(reader, state, path);
            using var scope = NewDisposeScope();
            var tensors = new Dictionary<string, Tensor>(count);
            for (var i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var (dtype, shape, length) = ReadHeader(reader, path, state.Name, key);
                var bytes = reader.ReadBytes(length);
                if (bytes.Length != length)
                {
                    throw Invalid(path, state.Name, $"tensor '{key}' cut short ({bytes.Length} of {length} bytes)");
                }

                var value = empty(shape, dtype);
                value.bytes = bytes;
                tensors[key] = value;
            }

            try
            {
                state.Import(tensors);
            }
            catch (InvalidDataException e)
            {
                throw Invalid(path, state.Name, $"the loss refused it ({e.Message})", e);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // ILossState.Import documents InvalidDataException; a state that throws anything else still names the file and the state.
                throw Invalid(path, state.Name, $"its import failed ({e.GetType().Name}: {e.Message})", e);
            }
        }
    }

    /// <summary>Walks the loss state with the same checks as <see cref="Read"/>, without allocating tensors or importing anything.</summary>
    /// <param name="reader">The checkpoint stream, at the loss state.</param>
    /// <param name="states">This run's loss states, in order.</param>
    /// <param name="path">The file (for messages).</param>
    /// <param name="end">Where the payload ends.</param>
    public static void Skip(BinaryReader reader, IReadOnlyList<ILossState> states, string path, long end)
    {
        foreach (var state in states)
        {
            var count = ReadStateHeader(reader, state, path);
            for (var i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var (_, _, length) = ReadHeader(reader, path, state.Name, key, end);
                reader.BaseStream.Position += length;
            }
        }
    }

    /// <summary>Reads a state's name (it must be the run's) and its tensor count (within bounds).</summary>
    private static int ReadStateHeader(BinaryReader reader, ILossState state, string path)
    {
        var name = reader.ReadString();
        if (name != state.Name)
        {
            throw new InvalidDataException($"'{path}' holds loss state '{name}' where this run has '{state.Name}'.");
        }

        var count = reader.ReadInt32();
        if (count < 0 || count > MaxTensorsPerState)
        {
            throw Invalid(path, state.Name, $"the tensor count {count} is out of range");
        }

        return count;
    }

    /// <summary>Reads and checks one tensor's dtype, shape and byte length before anything is allocated.</summary>
    private static (ScalarType DType, long[] Shape, int Length) ReadHeader(BinaryReader reader, string path, string state, string key, long end = long.MaxValue)
    {
        var dtype = (ScalarType)reader.ReadInt32();
        if (!ElementSizes.TryGetValue(dtype, out var elementSize))
        {
            throw Invalid(path, state, $"tensor '{key}' has an unknown element type {(int)dtype}");
        }

        var rank = reader.ReadInt32();
        if (rank < 0 || rank > MaxRank)
        {
            throw Invalid(path, state, $"tensor '{key}' has rank {rank}");
        }

        var shape = new long[rank];
        var elements = 1L;
        for (var d = 0; d < rank; d++)
        {
            shape[d] = reader.ReadInt64();
            if (shape[d] < 0 || (shape[d] > 0 && elements > int.MaxValue / shape[d]))
            {
                throw Invalid(path, state, $"tensor '{key}' has shape {Guard.FormatShape(shape.Take(d + 1))}");
            }

            elements *= shape[d];
        }

        var length = reader.ReadInt32();
        var remaining = reader.BaseStream.CanSeek ? Math.Min(end, reader.BaseStream.Length) - reader.BaseStream.Position : long.MaxValue;
        if (length != elements * elementSize || length > remaining)
        {
            throw Invalid(path, state, $"tensor '{key}' holds {length} bytes where {Guard.FormatShape(shape)} {dtype} needs {elements * elementSize}");
        }

        return (dtype, shape, length);
    }

    private static InvalidDataException Invalid(string path, string state, string what, Exception? inner = null) =>
        new($"'{path}' is not a usable checkpoint: in loss state '{state}', {what}.", inner);
}
