using KnowledgeDistillation.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Saves and restores everything a run needs to continue: the state of every participant that any stage
/// trains and of every loss module, the <see cref="ILossState"/> of the losses and of callbacks that implement it, the optimiser, the CPU random generator, the position and the history.
/// Frozen participants are not saved; their fingerprints are, and must match on resume.
/// </summary>
internal sealed class CheckpointWriter
{
    private readonly IReadOnlyList<IDistillationModel> _saved;
    private readonly IReadOnlyList<IDistillationModel> _frozen;
    private readonly IReadOnlyList<DistillationStage> _stages;
    private readonly IReadOnlyList<nn.Module> _lossModules;
    private readonly IReadOnlyList<ILossState> _lossStates;
    private Dictionary<string, string>? _frozenFingerprints;

    public CheckpointWriter(
        IReadOnlyList<IDistillationModel> participants,
        IReadOnlyList<DistillationStage> stages,
        IReadOnlyList<nn.Module> lossModules,
        IReadOnlyList<ILossState>? callbackStates = null)
    {
        _stages = stages;
        _lossModules = lossModules;
        _lossStates = stages.SelectMany(s => s.Loss.State).Concat(callbackStates ?? Array.Empty<ILossState>()).Distinct().ToArray();
        var duplicate = _lossStates.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException(
                $"Two loss states are named '{duplicate.Key}'; checkpoints key state by name, so give each stateful loss its own name.", "stages");
        }
        var trained = stages.SelectMany(s => StageRun.TrainableOf(s, participants)).ToHashSet();
        _saved = participants.Where(trained.Contains).ToArray();
        _frozen = participants.Where(p => !trained.Contains(p)).ToArray();
    }

    public void Write(string path, TrainingPosition position, IReadOnlyList<EpochRecord> history, EpochProgress? partial, OptimizerSet? optimizers)
    {
        var state = new CheckpointState
        {
            SavedParticipants = _saved.Select(p => p.Name).ToArray(),
            FrozenFingerprints = FrozenFingerprints(),
            Stages = _stages.Select(s => s.Name).ToArray(),
            LossModules = _lossModules.Count,
            LossStates = _lossStates.Select(s => s.Name).ToArray(),
            StageIndex = position.StageIndex,
            Epoch = position.Epoch,
            BatchInEpoch = position.BatchInEpoch,
            Step = position.Step,
            DataEpoch = position.DataEpoch,
            Optimizer = optimizers?.Description,
            History = history.ToList(),
            Partial = partial,
        };
        CheckpointFile.Write(path, state, writer =>
        {
            foreach (var participant in _saved)
            {
                participant.Module.save(writer);
            }

            foreach (var module in _lossModules)
            {
                module.save(writer);
            }

            LossStateSerializer.Write(writer, _lossStates);
            optimizers?.Save(writer);

            using var rng = random.get_rng_state();
            var bytes = rng.bytes.ToArray();
            writer.Write(bytes.Length);
            writer.Write(bytes);
        });
    }

    /// <summary>
    /// Checks the whole checkpoint (header, module blocks, loss state, optimiser block (extent and contents, see
    /// <see cref="OptimizerBlockValidator"/>), random generator state)
    /// before restoring anything, then restores it.
    /// </summary>
    /// <param name="path">The checkpoint.</param>
    /// <param name="stageEpochs">The epochs of each stage of this run.</param>
    /// <param name="batchesPerEpoch">The training data's batches per epoch (bounds the position within an epoch).</param>
    /// <param name="createRun">Creates the run of a stage, to resume inside it.</param>
    /// <param name="run">The resumed stage's run, or null for a finished run.</param>
    /// <param name="optimizers">The resumed stage's optimisers, or null.</param>
    /// <returns>The checkpoint's header; for a finished run continued to more epochs, repositioned inside its last stage.</returns>
    /// <exception cref="InvalidDataException">The file is malformed or belongs to another setup.</exception>
    public CheckpointState Load(string path, IReadOnlyList<int> stageEpochs, int batchesPerEpoch, Func<int, StageRun> createRun, out StageRun? run, out OptimizerSet? optimizers)
    {
        StageRun? resumedRun = null;
        OptimizerSet? resumedOptimizer = null;
        CheckpointState? positioned = null;
        CheckpointFile.Read(path, (read, reader, payloadEnd) =>
        {
            CheckpointValidator.RequireFields(path, read);
            CheckCompatible(path, read);
            var state = positioned = RunContinuation.Reposition(path, read, stageEpochs);
            CheckpointValidator.ValidateHeader(path, state, stageEpochs, batchesPerEpoch);

            // First pass: walk the payload without restoring anything; the optimiser block is what lies between the loss
            // state and the random generator state, whose size is fixed.
            var payloadStart = reader.BaseStream.Position;
            var (lossStateStart, optimizerStart) = ScanPayload(path, reader, payloadEnd);
            var rngStart = payloadEnd - 4 - CheckpointValidator.ExpectedRngLength;
            if (state.Optimizer is null ? optimizerStart != rngStart : optimizerStart >= rngStart)
            {
                throw new InvalidDataException(
                    $"'{path}' is not a usable checkpoint: field 'Optimizer' is {(state.Optimizer is null ? "null" : $"'{state.Optimizer}'")}, but " +
                    $"{Math.Max(0, rngStart - optimizerStart)} byte(s) lie between the loss state and the random generator state; expected " +
                    (state.Optimizer is null ? "none (no optimiser state)" : "the optimiser state") + ".");
            }

            reader.BaseStream.Position = rngStart;
            var rngState = CheckpointValidator.ReadRngState(reader, path, payloadEnd);

            // Second pass: the optimisers first (fresh objects, from a bounded copy of their block, disposed on failure),
            // then the loss state (whose import checks its contents before changing anything), the modules and the random
            // generator.
            if (state.StageIndex < _stages.Count)
            {
                resumedRun = createRun(state.StageIndex);
                resumedOptimizer = resumedRun.CreateOptimizers();
                if (state.Optimizer is not null)
                {
                    if (state.Optimizer != resumedOptimizer.Description)
                    {
                        resumedOptimizer.Dispose();
                        throw new InvalidDataException(
                            $"'{path}' holds optimiser state for [{state.Optimizer}], but stage '{_stages[state.StageIndex].Name}' now uses [{resumedOptimizer.Description}]; " +
                            "resume with the optimisers that wrote it (the same Kind, or the same FactoryName and optimiser type).");
                    }

                    reader.BaseStream.Position = optimizerStart;
                    var block = reader.ReadBytes(checked((int)(rngStart - optimizerStart)));
                    try
                    {
                        OptimizerBlockValidator.Validate(path, block, resumedOptimizer, state.Step);
                    }
                    catch
                    {
                        resumedOptimizer.Dispose();
                        throw;
                    }

                    LoadOptimizers(path, block, resumedOptimizer);
                }
            }

            reader.BaseStream.Position = lossStateStart;
            try
            {
                LossStateSerializer.Read(reader, _lossStates, path);
            }
            catch
            {
                resumedOptimizer?.Dispose();
                throw;
            }

            reader.BaseStream.Position = payloadStart;
            foreach (var participant in _saved)
            {
                LoadModule(path, reader, participant.Module, participant.Name);
            }

            foreach (var (module, index) in _lossModules.Select((m, i) => (m, i)))
            {
                LoadModule(path, reader, module, $"loss module {index}");
            }

            using var rng = tensor(rngState, ScalarType.Byte);
            random.set_rng_state(rng);
        });
        run = resumedRun;
        optimizers = resumedOptimizer;
        return positioned!;
    }

    /// <summary>Walks the module blocks and the loss state, checking them; returns where the loss state and the optimiser block start.</summary>
    private (long LossState, long Optimizer) ScanPayload(string path, BinaryReader reader, long payloadEnd)
    {
        try
        {
            foreach (var participant in _saved)
            {
                CheckpointValidator.ScanModuleBlock(reader, participant.Module, participant.Name, path, payloadEnd);
            }

            foreach (var (module, index) in _lossModules.Select((m, i) => (m, i)))
            {
                CheckpointValidator.ScanModuleBlock(reader, module, $"loss module {index}", path, payloadEnd);
            }

            var lossState = reader.BaseStream.Position;
            LossStateSerializer.Skip(reader, _lossStates, path, payloadEnd);
            return (lossState, reader.BaseStream.Position);
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            throw new InvalidDataException($"'{path}' is not a usable checkpoint: its module or loss state ends early or is malformed ({e.Message}).", e);
        }
    }

    /// <summary>Loads a module block that <see cref="CheckpointValidator.ScanModuleBlock"/> accepted; any failure names the owner.</summary>
    private static void LoadModule(string path, BinaryReader reader, nn.Module module, string owner)
    {
        try
        {
            module.load(reader, strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException($"'{path}' is not a usable checkpoint: the module state of '{owner}' could not be loaded ({e.Message}).", e);
        }
    }

    /// <summary>Loads the optimisers from a copy of their block, so they cannot read past it; they must read all of it. Any failure names the optimisers.</summary>
    private static void LoadOptimizers(string path, byte[] block, OptimizerSet optimizers)
    {
        using var bounded = new BinaryReader(new MemoryStream(block, writable: false));
        try
        {
            optimizers.Load(bounded);
            if (bounded.BaseStream.Position != block.Length)
            {
                throw new InvalidDataException($"it read {bounded.BaseStream.Position} of its {block.Length} bytes");
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            optimizers.Dispose();
            throw new InvalidDataException($"'{path}' is not a usable checkpoint: the optimiser state [{optimizers.Description}] could not be loaded ({e.Message}).", e);
        }
    }

    private void CheckCompatible(string path, CheckpointState state)
    {
        var problems = new List<string>();
        var saved = _saved.Select(p => p.Name).ToArray();
        if (!state.SavedParticipants.SequenceEqual(saved))
        {
            problems.Add($"it saved participants [{string.Join(", ", state.SavedParticipants)}], this run trains [{string.Join(", ", saved)}]");
        }

        if (!state.Stages.SequenceEqual(_stages.Select(s => s.Name)))
        {
            problems.Add($"it has stages [{string.Join(", ", state.Stages)}], this run has [{string.Join(", ", _stages.Select(s => s.Name))}]");
        }

        if (state.LossModules != _lossModules.Count)
        {
            problems.Add($"it has {state.LossModules} loss module(s), this run has {_lossModules.Count}");
        }

        var states = _lossStates.Select(s => s.Name).ToArray();
        if (!state.LossStates.SequenceEqual(states))
        {
            problems.Add($"it saved loss state [{string.Join(", ", state.LossStates)}], this run has [{string.Join(", ", states)}]");
        }

        var fingerprints = FrozenFingerprints();
        foreach (var (name, fingerprint) in state.FrozenFingerprints)
        {
            if (!fingerprints.TryGetValue(name, out var current) || current != fingerprint)
            {
                problems.Add($"frozen participant '{name}' has different weights than when the checkpoint was written");
            }
        }

        if (problems.Count > 0)
        {
            throw new InvalidDataException($"'{path}' belongs to a different setup: {string.Join("; ", problems)}.");
        }
    }

    private Dictionary<string, string> FrozenFingerprints() =>
        _frozenFingerprints ??= _frozen.ToDictionary(p => p.Name, p => ModuleFingerprint.Compute(p.Module));
}
