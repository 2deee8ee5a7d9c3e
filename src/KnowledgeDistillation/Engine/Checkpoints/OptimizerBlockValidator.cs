using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Checks a checkpoint's optimiser block (TorchSharp's <c>save_state_dict</c> format, one per owner) against the
/// optimisers this run created, before anything is loaded into them. For every optimiser: its type name, the number of
/// parameter groups and of parameter states. For TorchSharp's <see cref="SGD"/>, <see cref="Adam"/> and
/// <see cref="AdamW"/> (the engine's <see cref="OptimizerKind"/>s) also every field: hyperparameters finite and in range,
/// each state's tensors with the element type and shape of the parameter they belong to and finite values (second
/// moments not negative), step counts within the run, flags 0 or 1, and the block read to its last byte. Other
/// optimisers (from a custom factory) are checked up to their counts; their own loader reads the rest from a bounded copy.
/// Every failure is an <see cref="InvalidDataException"/> naming the file, the owner and the field.
/// </summary>
internal static class OptimizerBlockValidator
{
    private const int MaxRank = 64;

    /// <summary>Checks <paramref name="block"/> (the optimiser block, exactly) against <paramref name="optimizers"/>.</summary>
    /// <param name="path">The file (for messages).</param>
    /// <param name="block">The optimiser block.</param>
    /// <param name="optimizers">The fresh optimisers of the resumed stage.</param>
    /// <param name="maxStep">The run's step count at the checkpoint (an optimiser's step count cannot exceed it).</param>
    /// <exception cref="InvalidDataException">The block does not fit the optimisers or holds an invalid field.</exception>
    public static void Validate(string path, byte[] block, OptimizerSet optimizers, long maxStep)
    {
        var reader = new BlockReader(block, path);
        foreach (var (owner, optimizer) in optimizers.Optimizers)
        {
            reader.Owner = $"{owner}:{optimizer.GetType().Name}";
            if (!ValidateOne(reader, optimizer, maxStep))
            {
                return; // an optimiser of unknown layout: where the next one starts is known only to its own loader
            }
        }

        if (reader.Remaining != 0)
        {
            throw reader.Invalid("the block", $"ends after the last optimiser's state; {reader.Remaining} byte(s) follow");
        }
    }

    /// <summary>Checks one optimiser's state; returns false when its type's layout is not known past the counts.</summary>
    private static bool ValidateOne(BlockReader reader, optim.Optimizer optimizer, long maxStep)
    {
        var type = optimizer.GetType();
        var name = reader.String("the type name");
        if (name != type.Name)
        {
            throw reader.Invalid("the type name", $"'{type.Name}', not '{Printable(name)}'");
        }

        var groups = optimizer.ParamGroups.Cast<ParamGroup>().ToArray();
        var parameters = groups.SelectMany(g => g.Parameters).ToArray();
        var optionCount = reader.Leb128("the parameter group count");
        if (optionCount != groups.Length)
        {
            throw reader.Invalid("the parameter group count", $"{groups.Length}, not {optionCount}");
        }

        var stateCount = reader.Leb128("the parameter state count");
        if (stateCount != parameters.Length)
        {
            throw reader.Invalid("the parameter state count", $"{parameters.Length} (one per parameter), not {stateCount}");
        }

        var kind = type == typeof(SGD) ? Kind.Sgd : typeof(Adam).IsAssignableFrom(type) || typeof(AdamW).IsAssignableFrom(type) ? Kind.Adam : Kind.Other; // the engine's Adam/AdamW derive from TorchSharp's
        if (kind == Kind.Other)
        {
            return false;
        }

        var momentum = new double[groups.Length];
        var amsgrad = new bool[groups.Length];
        for (var g = 0; g < groups.Length; g++)
        {
            var at = $"group {g}";
            NonNegative(reader, $"{at} InitialLearningRate", reader.Double($"{at} InitialLearningRate"));
            NonNegative(reader, $"{at} LearningRate", reader.Double($"{at} LearningRate"));
            if (kind == Kind.Sgd)
            {
                momentum[g] = NonNegative(reader, $"{at} momentum", reader.Double($"{at} momentum"));
                var dampening = Finite(reader, $"{at} dampening", reader.Double($"{at} dampening"));
                NonNegative(reader, $"{at} weight_decay", reader.Double($"{at} weight_decay"));
                var nesterov = reader.Flag($"{at} nesterov");
                reader.Flag($"{at} maximize");
                if (nesterov && (momentum[g] <= 0 || dampening != 0))
                {
                    throw reader.Invalid($"{at} nesterov", $"false unless momentum > 0 and dampening 0 (momentum {momentum[g]}, dampening {dampening})");
                }
            }
            else
            {
                UnitInterval(reader, $"{at} beta1", reader.Double($"{at} beta1"));
                UnitInterval(reader, $"{at} beta2", reader.Double($"{at} beta2"));
                var eps = reader.Double($"{at} eps");
                if (!(double.IsFinite(eps) && eps > 0))
                {
                    throw reader.Invalid($"{at} eps", $"a finite number > 0, not {eps}");
                }

                NonNegative(reader, $"{at} weight_decay", reader.Double($"{at} weight_decay"));
                amsgrad[g] = reader.Flag($"{at} amsgrad");
                reader.Flag($"{at} maximize");
            }
        }

        var index = 0;
        for (var g = 0; g < groups.Length; g++)
        {
            foreach (var parameter in groups[g].Parameters)
            {
                var at = $"state {index}";
                if (kind == Kind.Sgd)
                {
                    ValidateSgdState(reader, at, parameter, momentum[g]);
                }
                else
                {
                    ValidateAdamState(reader, at, parameter, amsgrad[g], maxStep);
                }

                index++;
            }
        }

        return true;
    }

    private static void ValidateSgdState(BlockReader reader, string at, Parameter parameter, double momentum)
    {
        if (!reader.Flag($"{at} has-momentum-buffer"))
        {
            return;
        }

        if (momentum == 0)
        {
            throw reader.Invalid($"{at} has-momentum-buffer", "false: the group's momentum is 0");
        }

        // TorchSharp's SGD builds the buffer from the element type and shape it reads, so they must be the parameter's.
        ValidateTensor(reader, $"{at} momentum buffer", parameter, nonNegative: false);
    }

    private static void ValidateAdamState(BlockReader reader, string at, Parameter parameter, bool amsgrad, long maxStep)
    {
        var step = reader.Int64($"{at} step");
        if (step < 0 || step > maxStep)
        {
            throw reader.Invalid($"{at} step", $"a count in 0..{maxStep} (the run's steps so far), not {step}");
        }

        ValidateTensor(reader, $"{at} exp_avg", parameter, nonNegative: false);
        ValidateTensor(reader, $"{at} exp_avg_sq", parameter, nonNegative: true);
        var hasMax = reader.Flag($"{at} has-max_exp_avg_sq");
        if (hasMax != amsgrad)
        {
            throw reader.Invalid($"{at} has-max_exp_avg_sq", $"{amsgrad} (the group's amsgrad), not {hasMax}");
        }

        if (hasMax)
        {
            ValidateTensor(reader, $"{at} max_exp_avg_sq", parameter, nonNegative: true);
        }
    }

    /// <summary>A tensor in TorchSharp's format (7-bit element type, rank and sizes, then the raw bytes), like its parameter.</summary>
    private static void ValidateTensor(BlockReader reader, string field, Parameter parameter, bool nonNegative)
    {
        var dtype = reader.Leb128($"{field} element type");
        if (dtype != (long)parameter.dtype)
        {
            throw reader.Invalid($"{field} element type", $"{parameter.dtype} ({(int)parameter.dtype}) like its parameter, not {dtype}");
        }

        var rank = reader.Leb128($"{field} rank");
        if (rank != parameter.shape.Length || rank > MaxRank)
        {
            throw reader.Invalid($"{field} rank", $"{parameter.shape.Length} (the parameter's shape {Guard.Shape(parameter)}), not {rank}");
        }

        for (var d = 0; d < rank; d++)
        {
            var size = reader.Leb128($"{field} size {d}");
            if (size != parameter.shape[d])
            {
                throw reader.Invalid($"{field} size {d}", $"{parameter.shape[d]} (the parameter's shape {Guard.Shape(parameter)}), not {size}");
            }
        }

        var bytes = reader.Bytes($"{field} data", parameter.NumberOfElements * parameter.ElementSize);
        var bad = FirstInvalid(bytes, parameter.dtype, nonNegative);
        if (bad >= 0)
        {
            throw reader.Invalid($"{field} data", $"{(nonNegative ? "finite values >= 0" : "finite values")}; element {bad} is not");
        }
    }

    /// <summary>The index of the first non-finite (or, when asked, negative) element of a floating-point tensor, else -1.</summary>
    private static long FirstInvalid(ReadOnlySpan<byte> bytes, ScalarType dtype, bool nonNegative)
    {
        switch (dtype)
        {
            case ScalarType.Float32:
                var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes);
                for (var i = 0; i < floats.Length; i++)
                {
                    if (!float.IsFinite(floats[i]) || (nonNegative && floats[i] < 0))
                    {
                        return i;
                    }
                }

                return -1;
            case ScalarType.Float64:
                var doubles = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(bytes);
                for (var i = 0; i < doubles.Length; i++)
                {
                    if (!double.IsFinite(doubles[i]) || (nonNegative && doubles[i] < 0))
                    {
                        return i;
                    }
                }

                return -1;
            default:
                return -1;
        }
    }

    private static double Finite(BlockReader reader, string field, double value) =>
        double.IsFinite(value) ? value : throw reader.Invalid(field, $"a finite number, not {value}");

    private static double NonNegative(BlockReader reader, string field, double value) =>
        double.IsFinite(value) && value >= 0 ? value : throw reader.Invalid(field, $"a finite number >= 0, not {value}");

    private static void UnitInterval(BlockReader reader, string field, double value)
    {
        if (!(value >= 0 && value < 1))
        {
            throw reader.Invalid(field, $"a number in [0, 1), not {value}");
        }
    }

    private static string Printable(string name) => name.Length > 80 ? name[..80] + "..." : name;

    private enum Kind
    {
        Sgd,
        Adam,
        Other,
    }

    /// <summary>Reads the block with every read bounded by what remains; a short block is an <see cref="InvalidDataException"/>.</summary>
    private sealed class BlockReader(byte[] block, string path)
    {
        private int _position;

        public string Owner { get; set; } = string.Empty;

        public int Remaining => block.Length - _position;

        public InvalidDataException Invalid(string field, string expected) =>
            new($"'{path}' is not a usable checkpoint: the optimiser state [{Owner}] has an invalid field '{field}'; expected {expected}.");

        public ReadOnlySpan<byte> Bytes(string field, long count)
        {
            if (count < 0 || count > Remaining)
            {
                throw Invalid(field, $"{count} byte(s), but only {Remaining} remain in the block");
            }

            var span = block.AsSpan(_position, (int)count);
            _position += (int)count;
            return span;
        }

        public int Int32(string field) => BitConverter.ToInt32(Bytes(field, 4));

        public long Int64(string field) => BitConverter.ToInt64(Bytes(field, 8));

        public double Double(string field) => BitConverter.ToDouble(Bytes(field, 8));

        public bool Flag(string field)
        {
            var value = Bytes(field, 1)[0];
            return value switch
            {
                0 => false,
                1 => true,
                _ => throw Invalid(field, $"a flag 0 or 1, not {value}"),
            };
        }

        public long Leb128(string field)
        {
            long result = 0;
            for (var shift = 0; ; shift += 7)
            {
                if (shift > 56)
                {
                    throw Invalid(field, "a 7-bit encoded number of at most 9 bytes");
                }

                var b = Bytes(field, 1)[0];
                result |= (long)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }
        }

        public string String(string field)
        {
            var length = Leb128($"{field} length");
            var bytes = Bytes(field, length > int.MaxValue ? -1 : length);
            try
            {
                return new UTF8Encoding(false, true).GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Invalid(field, "valid UTF-8");
            }
        }
    }
}
