using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// The optimisers of one stage: one per trained participant (in participant order) and one for the loss's own modules,
/// each with its own settings and state. Steps them together or one owner at a time.
/// </summary>
internal sealed class OptimizerSet : IDisposable
{
    private readonly IReadOnlyList<Entry> _entries;

    private OptimizerSet(IReadOnlyList<Entry> entries)
    {
        _entries = entries;
    }

    /// <summary>The owners (participant names, then <see cref="DistillationStage.LossModulesOwner"/>), in stepping order.</summary>
    public IReadOnlyList<string> Owners => _entries.Select(e => e.Owner).ToArray();

    /// <summary>A description of the optimisers for checkpoints, e.g. <c>peer1:SGD;peer2:SGD</c>.</summary>
    public string Description => string.Join(";", _entries.Select(e => $"{e.Owner}:{e.Optimizer.GetType().Name}"));

    /// <summary>Creates the optimisers.</summary>
    /// <param name="owners">Each owner with its settings and parameters (parameters must be disjoint across owners).</param>
    public static OptimizerSet Create(IEnumerable<(string Owner, OptimizerOptions Options, IReadOnlyList<Parameter> Parameters)> owners) =>
        new(owners.Where(o => o.Parameters.Count > 0).Select(o => new Entry(o.Owner, o.Options, o.Parameters, Build(o.Options, o.Parameters))).ToArray());

    /// <summary>The parameters of one owner (empty when it has none).</summary>
    /// <param name="owner">The owner.</param>
    public IReadOnlyList<Parameter> ParametersOf(string owner) =>
        _entries.FirstOrDefault(e => e.Owner == owner)?.Parameters ?? Array.Empty<Parameter>();

    /// <summary>Sets every optimiser's learning rate from its own base rate and the schedule.</summary>
    /// <param name="schedule">The stage's schedule.</param>
    /// <param name="epoch">The epoch (0-based).</param>
    /// <param name="epochs">The stage's epochs.</param>
    public void SetLearningRates(LearningRateScheduleOptions schedule, int epoch, int epochs)
    {
        foreach (var entry in _entries)
        {
            var rate = schedule.RateAt(entry.Options.LearningRate, epoch, epochs);
            foreach (var group in entry.Optimizer.ParamGroups)
            {
                group.LearningRate = rate;
            }
        }
    }

    /// <summary>Clears the gradients of every owner's parameters.</summary>
    public void ZeroGrad()
    {
        foreach (var entry in _entries)
        {
            entry.Optimizer.zero_grad();
        }
    }

    /// <summary>Steps every optimiser.</summary>
    public void Step()
    {
        foreach (var entry in _entries)
        {
            entry.Optimizer.step();
        }
    }

    /// <summary>Steps the optimiser of one owner (nothing when it has no parameters).</summary>
    /// <param name="owner">The owner.</param>
    public void Step(string owner)
    {
        foreach (var entry in _entries.Where(e => e.Owner == owner))
        {
            entry.Optimizer.step();
        }
    }

    /// <summary>Writes every optimiser's state, in owner order.</summary>
    /// <param name="writer">The checkpoint stream.</param>
    public void Save(BinaryWriter writer)
    {
        foreach (var entry in _entries)
        {
            Helper(entry.Optimizer).save_state_dict(writer);
        }
    }

    /// <summary>Reads every optimiser's state, in owner order.</summary>
    /// <param name="reader">The checkpoint stream.</param>
    public void Load(BinaryReader reader)
    {
        foreach (var entry in _entries)
        {
            Helper(entry.Optimizer).load_state_dict(reader);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var entry in _entries)
        {
            entry.Optimizer.Dispose();
        }
    }

    private static optim.Optimizer Build(OptimizerOptions o, IReadOnlyList<Parameter> parameters) => o.Kind switch
    {
        OptimizerKind.Adam => optim.Adam(parameters, o.LearningRate, o.Beta1, o.Beta2, weight_decay: o.WeightDecay),
        OptimizerKind.AdamW => optim.AdamW(parameters, o.LearningRate, o.Beta1, o.Beta2, weight_decay: o.WeightDecay),
        _ => optim.SGD(parameters, o.LearningRate, o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Nesterov),
    };

    private static OptimizerHelper Helper(optim.Optimizer optimizer) =>
        optimizer as OptimizerHelper
        ?? throw new NotSupportedException($"{optimizer.GetType().Name} cannot save its state; checkpoints support TorchSharp's managed optimisers (SGD, Adam, AdamW).");

    private sealed record Entry(string Owner, OptimizerOptions Options, IReadOnlyList<Parameter> Parameters, optim.Optimizer Optimizer);
}
