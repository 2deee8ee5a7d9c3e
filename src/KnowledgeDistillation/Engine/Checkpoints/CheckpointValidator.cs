using System.Buffers.Binary;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Checks a checkpoint's header and payload before anything is restored: the position and history against this run's
/// stages and data, the module blocks against the modules' state (names, element types, shapes, byte lengths), and
/// the random generator state against the size this process's generator uses. Every failure is an
/// <see cref="InvalidDataException"/> naming the file and the field; nothing native is touched and nothing larger than
/// the file is allocated.
/// </summary>
internal static class CheckpointValidator
{
    private const int MaxRank = 64;
    private const int MaxNameBytes = 1 << 16;

    private static readonly Lazy<int> RngStateLength = new(() =>
    {
        using var state = random.get_rng_state();
        return checked((int)state.NumberOfElements);
    });

    /// <summary>The size in bytes of the CPU random generator's state in this process.</summary>
    public static int ExpectedRngLength => RngStateLength.Value;

    /// <summary>Checks the header: required fields present, the position within the run, the history and the partial epoch consistent with it.</summary>
    /// <param name="path">The file (for messages).</param>
    /// <param name="state">The header.</param>
    /// <param name="stageEpochs">The epochs of each stage of this run, in order.</param>
    /// <param name="batchesPerEpoch">The training data's batches per epoch.</param>
    public static void ValidateHeader(string path, CheckpointState state, IReadOnlyList<int> stageEpochs, int batchesPerEpoch)
    {
        RequireFields(path, state);

        var stages = stageEpochs.Count;
        Require(path, "StageIndex", state.StageIndex >= 0 && state.StageIndex <= stages, $"a stage index in 0..{stages} (this run has {stages} stage(s)), not {state.StageIndex}");
        var finished = state.StageIndex == stages;
        var epochs = finished ? 1 : stageEpochs[state.StageIndex];
        Require(
            path, "Epoch", state.Epoch >= 0 && (finished ? state.Epoch == 0 : state.Epoch < epochs),
            finished ? $"0 for a finished run, not {state.Epoch}" : $"an epoch in 0..{epochs - 1} of stage {state.StageIndex}, not {state.Epoch}");
        Require(
            path, "BatchInEpoch", state.BatchInEpoch >= 0 && state.BatchInEpoch <= batchesPerEpoch && (state.Partial is not null || state.BatchInEpoch == 0),
            state.Partial is null ? $"0 at an epoch boundary (no Partial), not {state.BatchInEpoch}" : $"a batch in 0..{batchesPerEpoch}, not {state.BatchInEpoch}");
        Require(path, "Step", state.Step >= 0, $"a step >= 0, not {state.Step}");
        Require(path, "DataEpoch", state.DataEpoch >= 0, $"a data epoch >= 0, not {state.DataEpoch}");
        // A finished run keeps its last stage's optimiser state (so it can be continued to more epochs); checkpoints of
        // earlier versions have none, and a continuation of one starts with fresh optimiser state.
        Require(
            path, "Optimizer", finished || state.ContinuedFromEpochs is not null || state.Optimizer is not null || (state.Epoch == 0 && state.BatchInEpoch == 0 && state.Partial is null),
            $"the optimiser description inside stage {state.StageIndex} (epoch {state.Epoch}, batch {state.BatchInEpoch}); null only at a stage's start");
        Require(path, "Partial", !finished || state.Partial is null, "null for a finished run");

        ValidateHistory(path, state, stageEpochs);
        if (state.Partial is { } partial)
        {
            ValidatePartial(path, partial, state.BatchInEpoch);
        }

        var steps = state.History.Sum(r => (long)r.Steps) + (state.Partial?.Steps ?? 0);
        Require(path, "Step", state.Step == steps, $"the sum of the history's and the partial epoch's steps ({steps}), not {state.Step}");
        Require(path, "DataEpoch", state.DataEpoch == state.History.Count, $"the number of finished epochs ({state.History.Count}), not {state.DataEpoch}");
    }

    /// <summary>Checks that the header's lists and maps are present (JSON null is refused).</summary>
    /// <param name="path">The file (for messages).</param>
    /// <param name="state">The header.</param>
    public static void RequireFields(string path, CheckpointState state)
    {
        Require(path, "SavedParticipants", state.SavedParticipants is not null && state.SavedParticipants.All(n => n is not null), "a list of participant names");
        Require(path, "FrozenFingerprints", state.FrozenFingerprints is not null && state.FrozenFingerprints.Values.All(v => v is not null), "a map of participant name to fingerprint");
        Require(path, "Stages", state.Stages is not null && state.Stages.All(n => n is not null), "a list of stage names");
        Require(path, "LossStates", state.LossStates is not null && state.LossStates.All(n => n is not null), "a list of loss state names");
        Require(path, "History", state.History is not null, "a list of epoch records");
        Require(path, "LossModules", state.LossModules >= 0, $"a count >= 0, not {state.LossModules}");
    }

    /// <summary>
    /// Reads one module block (TorchSharp's <c>Module.save</c> format: an entry count, then per entry a name and a tensor
    /// as element type, rank, sizes and raw bytes) and checks it against <paramref name="module"/>'s state, without
    /// loading it; the reader ends after the block.
    /// </summary>
    public static void ScanModuleBlock(BinaryReader reader, nn.Module module, string owner, string path, long payloadEnd)
    {
        var expected = module.state_dict();
        var count = ReadLeb128(reader, path, owner, "its entry count", payloadEnd);
        if (count != expected.Count)
        {
            throw ModuleInvalid(path, owner, $"it has {count} entries where the module has {expected.Count}");
        }

        var seen = new HashSet<string>();
        for (var i = 0; i < count; i++)
        {
            var name = ReadName(reader, path, owner, i, payloadEnd);
            if (!expected.TryGetValue(name, out var target) || !seen.Add(name))
            {
                throw ModuleInvalid(path, owner, $"entry {i} is '{Printable(name)}', which the module {(seen.Contains(name) ? "already had" : "does not have")}");
            }

            var dtype = ReadLeb128(reader, path, owner, $"the element type of '{name}'", payloadEnd);
            if (dtype != (long)target.dtype)
            {
                throw ModuleInvalid(path, owner, $"'{name}' has element type {dtype} where the module has {target.dtype} ({(int)target.dtype})");
            }

            var rank = ReadLeb128(reader, path, owner, $"the rank of '{name}'", payloadEnd);
            if (rank != target.shape.Length || rank > MaxRank)
            {
                throw ModuleInvalid(path, owner, $"'{name}' has rank {rank} where the module has {target.shape.Length}");
            }

            for (var d = 0; d < rank; d++)
            {
                var size = ReadLeb128(reader, path, owner, $"a size of '{name}'", payloadEnd);
                if (size != target.shape[d])
                {
                    throw ModuleInvalid(path, owner, $"'{name}' has size {size} in dimension {d} where the module has shape {Guard.Shape(target)}");
                }
            }

            var bytes = target.NumberOfElements * target.ElementSize;
            if (bytes > payloadEnd - reader.BaseStream.Position)
            {
                throw ModuleInvalid(path, owner, $"'{name}' needs {bytes} bytes but only {payloadEnd - reader.BaseStream.Position} remain");
            }

            reader.BaseStream.Position += bytes;
        }
    }

    /// <summary>Reads and checks the random generator state (a length, then the bytes) that ends the payload.</summary>
    public static byte[] ReadRngState(BinaryReader reader, string path, long payloadEnd)
    {
        var expected = ExpectedRngLength;
        if (payloadEnd - reader.BaseStream.Position < 4)
        {
            throw new InvalidDataException($"'{path}' is not a usable checkpoint: the random generator state length is missing (expected the length {expected}).");
        }

        var length = reader.ReadInt32();
        if (length != expected)
        {
            throw new InvalidDataException(
                $"'{path}' is not a usable checkpoint: the random generator state length is {length}; this process's CPU generator needs exactly {expected} bytes.");
        }

        var remaining = payloadEnd - reader.BaseStream.Position;
        if (remaining != expected)
        {
            throw new InvalidDataException(
                $"'{path}' is not a usable checkpoint: the random generator state needs {expected} bytes and must end the payload, but {remaining} byte(s) remain.");
        }

        var bytes = reader.ReadBytes(expected);
        if (bytes.Length != expected)
        {
            throw new InvalidDataException($"'{path}' is not a usable checkpoint: the random generator state is cut short ({bytes.Length} of {expected} bytes).");
        }

        ValidateMersenneTwister(bytes, path);
        return bytes;
    }

    /// <summary>The size of libtorch's <c>CPUGeneratorImplState</c> on 64-bit platforms (libtorch 2.x), whose layout is known.</summary>
    private const int CpuGeneratorStateBytes = 5056;

    /// <summary>The Mersenne Twister's state size (words).</summary>
    private const int MersenneStateWords = 624;

    /// <summary>
    /// libtorch's <c>set_state</c> aborts the process (an uncatchable <c>c10::Error</c>) when the Mersenne Twister fields are
    /// inconsistent, so check them here: in <c>CPUGeneratorImplState</c> the Int32 <c>left</c> (offset 8) must be 1..624,
    /// the Int32 <c>seeded</c> (offset 12) non-zero and the UInt64 <c>next</c> (offset 16, used as UInt32) at most 624.
    /// Other generator layouts (a future libtorch with another state size) are left to libtorch.
    /// </summary>
    private static void ValidateMersenneTwister(byte[] state, string path)
    {
        if (state.Length != CpuGeneratorStateBytes)
        {
            return;
        }

        var left = BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(8, 4));
        var seeded = BinaryPrimitives.ReadInt32LittleEndian(state.AsSpan(12, 4));
        var next = (uint)BinaryPrimitives.ReadUInt64LittleEndian(state.AsSpan(16, 8));
        if (left < 1 || left > MersenneStateWords || seeded == 0 || next > MersenneStateWords)
        {
            throw new InvalidDataException(
                $"'{path}' is not a usable checkpoint: the random generator state is not a valid Mersenne Twister state " +
                $"(left = {left}, expected 1..{MersenneStateWords}; seeded = {seeded}, expected non-zero; next = {next}, expected 0..{MersenneStateWords}).");
        }
    }

    /// <summary>
    /// The history is the run's epochs in order, up to the checkpoint's position: stage by stage, none skipped, each earlier
    /// stage with all its epochs, epochs 0, 1, 2, ... below the stage's epoch count.
    /// </summary>
    private static void ValidateHistory(string path, CheckpointState state, IReadOnlyList<int> stageEpochs)
    {
        var stage = 0;
        var nextEpoch = 0;
        for (var i = 0; i < state.History.Count; i++)
        {
            var record = state.History[i];
            var field = $"History[{i}]";
            Require(path, field, record is not null, "an epoch record, not null");
            var index = Array.IndexOf(state.Stages, record!.Stage);
            var endedBefore = i > 0 && state.History[i - 1]?.EndedStage == true;
            if (index == stage + 1 && record.Epoch == 0)
            {
                Require(
                    path, field, nextEpoch == stageEpochs[stage] || endedBefore,
                    $"a record of stage '{state.Stages[stage]}' (a stage runs all its epochs before the next starts, unless a record ended it early: {stageEpochs[stage]}, found {nextEpoch})");
                stage = index;
                nextEpoch = 0;
            }

            Require(
                path, $"{field}.Stage", index == stage && stage <= Math.Min(state.StageIndex, stageEpochs.Count - 1),
                $"stage '{state.Stages[stage]}'{(nextEpoch > 0 && stage + 1 < state.Stages.Length ? $" or '{state.Stages[stage + 1]}'" : string.Empty)} (stages in order, up to stage {state.StageIndex}), not '{record.Stage}'");
            Require(
                path, $"{field}.Epoch", record.Epoch == nextEpoch && record.Epoch < stageEpochs[stage],
                $"epoch {nextEpoch} (epochs increase by one from 0, below stage '{state.Stages[stage]}''s {stageEpochs[stage]}), not {record.Epoch}");
            Require(path, $"{field}.Stage", !(endedBefore && nextEpoch > 0), $"the next stage (History[{i - 1}] ended stage '{state.Stages[stage]}' early), not another epoch of it");
            Require(path, $"{field}.Steps", record.Steps >= 0, $"a count >= 0, not {record.Steps}");
            Require(path, $"{field}.SkippedSteps", record.SkippedSteps >= 0, $"a count >= 0, not {record.SkippedSteps}");
            Require(
                path, field, record.LossParts is not null && record.TrainMetrics is not null && record.EvalMetrics is not null &&
                record.TrainMetrics.Values.All(m => m is not null) && record.EvalMetrics.Values.All(m => m is not null),
                "LossParts, TrainMetrics and EvalMetrics present");
            nextEpoch++;
        }

        var complete = state.Epoch > 0
            ? stage == state.StageIndex && nextEpoch == state.Epoch
            : state.StageIndex == 0 ? state.History.Count == 0 : stage == state.StageIndex - 1 && (nextEpoch == stageEpochs[stage] || (state.History.Count > 0 && state.History[^1]?.EndedStage == true));
        Require(
            path, "History", complete,
            $"the epochs before the position (stage {state.StageIndex}, epoch {state.Epoch}): every earlier stage with all its epochs, then {state.Epoch} epoch(s) of stage {state.StageIndex}; " +
            $"it ends at stage {stage} after {nextEpoch} epoch(s)");
    }

    private static void ValidatePartial(string path, EpochProgress partial, int batchInEpoch)
    {
        Require(path, "Partial.Steps", partial.Steps >= 0, $"a count >= 0, not {partial.Steps}");
        Require(path, "Partial.Skipped", partial.Skipped >= 0, $"a count >= 0, not {partial.Skipped}");
        Require(
            path, "Partial.Steps", (long)partial.Steps + partial.Skipped == batchInEpoch,
            $"steps + skipped ({partial.Steps} + {partial.Skipped}) equal to BatchInEpoch ({batchInEpoch})");
        Require(path, "Partial.TotalSum", (partial.TotalSum is null) == (partial.Steps == 0), partial.Steps == 0 ? "null when no step ran" : "a sum when steps ran");
        Require(path, "Partial.PartSums", partial.PartSums is not null && (partial.Steps > 0 || partial.PartSums.Count == 0), "a map of loss part to sum (empty when no step ran)");
        Require(
            path, "Partial.MetricStates", partial.MetricStates is not null && partial.MetricStates.Values.All(m => m is not null && m.Values.All(v => v is not null && v.All(double.IsFinite))),
            "a map of participant to metric to finite numbers");
    }

    private static long ReadLeb128(BinaryReader reader, string path, string owner, string what, long payloadEnd)
    {
        long result = 0;
        for (var shift = 0; ; shift += 7)
        {
            if (shift > 56 || reader.BaseStream.Position >= payloadEnd)
            {
                throw ModuleInvalid(path, owner, $"{what} is not a valid 7-bit encoded number");
            }

            var b = reader.ReadByte();
            result |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
    }

    private static string ReadName(BinaryReader reader, string path, string owner, int entry, long payloadEnd)
    {
        // A .NET string: a 7-bit encoded byte length, then UTF-8.
        var length = 0L;
        for (var shift = 0; ; shift += 7)
        {
            if (shift > 28 || reader.BaseStream.Position >= payloadEnd)
            {
                throw ModuleInvalid(path, owner, $"the name of entry {entry} has no valid length");
            }

            var b = reader.ReadByte();
            length |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                break;
            }
        }

        if (length > MaxNameBytes || length > payloadEnd - reader.BaseStream.Position)
        {
            throw ModuleInvalid(path, owner, $"the name of entry {entry} claims {length} bytes");
        }

        var bytes = reader.ReadBytes((int)length);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw ModuleInvalid(path, owner, $"the name of entry {entry} is not valid UTF-8");
        }
    }

    private static string Printable(string name) => name.Length > 80 ? name[..80] + "..." : name;

    private static void Require(string path, string field, bool ok, string expected)
    {
        if (!ok)
        {
            throw new InvalidDataException($"'{path}' is not a usable checkpoint: field '{field}' is invalid; expected {expected}.");
        }
    }

    private static InvalidDataException ModuleInvalid(string path, string owner, string what) =>
        new($"'{path}' is not a usable checkpoint: in the module state of '{owner}', {what}.");
}
