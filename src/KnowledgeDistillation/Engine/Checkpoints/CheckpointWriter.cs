using KnowledgeDistillation.Internal;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Saves and restores everything a run needs to continue: the state of every participant that any stage
/// trains and of every loss module, the optimiser, the CPU random generator, the position and the history.
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

    public CheckpointWriter(IReadOnlyList<IDistillationModel> participants, IReadOnlyList<DistillationStage> stages, IReadOnlyList<nn.Module> lossModules)
    {
        _stages = stages;
        _lossModules = lossModules;
        _lossStates = stages.SelectMany(s => s.Loss.State).Distinct().ToArray();
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

    public CheckpointState Load(string path, Func<int, StageRun> createRun, out StageRun? run, out OptimizerSet? optimizers)
    {
        StageRun? resumedRun = null;
        OptimizerSet? resumedOptimizer = null;
        var state = CheckpointFile.Read(path, (state, reader) =>
        {
            CheckCompatible(path, state);
            foreach (var participant in _saved)
            {
                participant.Module.load(reader, strict: true);
            }

            foreach (var module in _lossModules)
            {
                module.load(reader, strict: true);
            }

            LossStateSerializer.Read(reader, _lossStates, path);

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

                    resumedOptimizer.Load(reader);
                }
            }

            var length = reader.ReadInt32();
            using var rng = tensor(reader.ReadBytes(length), ScalarType.Byte);
            random.set_rng_state(rng);
        });
        run = resumedRun;
        optimizers = resumedOptimizer;
        return state;
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
