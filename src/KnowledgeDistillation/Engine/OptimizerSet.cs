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

    /// <summary>
    /// A description of the optimisers for checkpoints, e.g. <c>peer1:SGD;peer2:SGD</c>; an optimiser from a custom
    /// factory reads <c>owner:FactoryName(Type)</c>, e.g. <c>student:rmsprop(RMSProp)</c>.
    /// </summary>
    public string Description => string.Join(";", _entries.Select(e => $"{e.Owner}:{Describe(e)}"));

    /// <summary>Creates the optimisers.</summary>
    /// <param name="owners">Each owner with its settings and parameters (parameters must be disjoint across owners).</param>
    /// <exception cref="InvalidOperationException">A custom factory returned null, an optimiser the engine cannot drive, or one over other parameters.</exception>
    public static OptimizerSet Create(IEnumerable<(string Owner, OptimizerOptions Options, IReadOnlyList<Parameter> Parameters)> owners)
    {
        var entries = new List<Entry>();
        try
        {
            foreach (var (owner, options, parameters) in owners.Where(o => o.Parameters.Count > 0))
            {
                entries.Add(new Entry(owner, options, parameters, Build(owner, options, parameters)));
            }
        }
        catch
        {
            foreach (var entry in entries)
            {
                entry.Optimizer.Dispose();
            }

            throw;
        }

        return new OptimizerSet(entries);
    }

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

    /// <summary>Each owner's optimiser, in the order <see cref="Save"/> writes their states (for checking a saved block before loading it).</summary>
    public IReadOnlyList<(string Owner, optim.Optimizer Optimizer)> Optimizers => _entries.Select(e => (e.Owner, e.Optimizer)).ToArray();

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

    private static string Describe(Entry entry) =>
        entry.Options.Factory is null ? entry.Optimizer.GetType().Name : $"{entry.Options.FactoryName}({entry.Optimizer.GetType().Name})";

    private static optim.Optimizer Build(string owner, OptimizerOptions o, IReadOnlyList<Parameter> parameters) => o.Factory is { } factory
        ? BuildCustom(owner, o, factory, parameters)
        : o.Kind switch
        {
            OptimizerKind.Adam => new Optimizers.Adam(parameters, o.LearningRate, o.Beta1, o.Beta2, weight_decay: o.WeightDecay),
            OptimizerKind.AdamW => new Optimizers.AdamW(parameters, o.LearningRate, o.Beta1, o.Beta2, weight_decay: o.WeightDecay),
            _ => optim.SGD(parameters, o.LearningRate, o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Nesterov),
        };

    private static optim.Optimizer BuildCustom(
        string owner, OptimizerOptions o, Func<IReadOnlyList<Parameter>, OptimizerOptions, optim.Optimizer> factory, IReadOnlyList<Parameter> parameters)
    {
        var what = $"The optimiser factory '{o.FactoryName}' (for '{owner}')";
        var optimizer = factory(parameters, o)
            ?? throw new InvalidOperationException($"{what} returned null; it must return a new optimiser over the parameters it is given.");
        try
        {
            if (optimizer is not OptimizerHelper helper)
            {
                throw new InvalidOperationException(
                    $"{what} returned a {optimizer.GetType().Name}, which the engine cannot drive: it needs a TorchSharp managed optimiser " +
                    "(derived from OptimizerHelper: every TorchSharp optimiser except LBFGS) for learning-rate schedules and checkpoints.");
            }

            var given = parameters.Select(p => p.Handle).ToHashSet();
            var covered = helper.parameters().Select(p => p.Handle).ToHashSet();
            var missing = given.Count(h => !covered.Contains(h));
            var foreign = covered.Count(h => !given.Contains(h));
            if (missing > 0 || foreign > 0)
            {
                throw new InvalidOperationException(
                    $"{what} returned a {optimizer.GetType().Name} that does not cover exactly the {given.Count} parameter(s) it was given: " +
                    $"{missing} of them are missing and it holds {foreign} other(s). Build the optimiser from the factory's parameters argument.");
            }

            return optimizer;
        }
        catch
        {
            optimizer.Dispose();
            throw;
        }
    }

    private static OptimizerHelper Helper(optim.Optimizer optimizer) =>
        optimizer as OptimizerHelper
        ?? throw new NotSupportedException($"{optimizer.GetType().Name} cannot save its state; checkpoints support TorchSharp's managed optimisers (derived from OptimizerHelper).");

    private sealed record Entry(string Owner, OptimizerOptions Options, IReadOnlyList<Parameter> Parameters, optim.Optimizer Optimizer);
}
