using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>The resolved settings of one stage: who runs, who learns, with which optimiser and schedule.</summary>
internal sealed class StageRun
{
    public StageRun(DistillationStage stage, IReadOnlyList<IDistillationModel> participants, DistillerOptions options, Device device)
    {
        Stage = stage;
        Device = device;
        Epochs = stage.Epochs ?? options.Epochs;
        OptimizerOptions = stage.Optimizer ?? options.Optimizer;
        Schedule = stage.LearningRateSchedule ?? options.LearningRateSchedule;
        OptimizerOptions.Validate($"Stages[{stage.Name}].Optimizer");
        Schedule.Validate($"Stages[{stage.Name}].LearningRateSchedule");
        Trainable = TrainableOf(stage, participants);
        Active = ActiveOf(stage, participants, Trainable);
        if (Trainable.Any(t => !Active.Contains(t)))
        {
            throw new ArgumentException($"Stage '{stage.Name}' trains participants that are not active in it.", "stages");
        }

        LossModules = stage.Loss.TrainableModules;
        Parameters = Trainable.SelectMany(p => p.Module.parameters())
            .Concat(LossModules.SelectMany(m => m.parameters()))
            .Where(p => p.requires_grad)
            .Distinct()
            .ToArray();
        ValidateParticipantOptimizers();
        if (!Enum.IsDefined(stage.UpdateOrder))
        {
            throw new ArgumentOutOfRangeException("stages", stage.UpdateOrder, $"Stage '{stage.Name}' has an unknown update order.");
        }

        if (Parameters.Count == 0)
        {
            throw new InvalidOperationException(
                $"Stage '{stage.Name}' has nothing to train: no student, trainable teacher or loss module with parameters that require gradients.");
        }
    }

    public DistillationStage Stage { get; }

    public Device Device { get; }

    public int Epochs { get; }

    public OptimizerOptions OptimizerOptions { get; }

    public LearningRateScheduleOptions Schedule { get; }

    public IReadOnlyList<IDistillationModel> Active { get; }

    public IReadOnlyList<IDistillationModel> Trainable { get; }

    public IReadOnlyList<nn.Module> LossModules { get; }

    public IReadOnlyList<TorchSharp.Modules.Parameter> Parameters { get; }

    /// <summary>
    /// The participants a stage runs: its explicit <see cref="DistillationStage.Active"/> list; otherwise, when every term of
    /// the loss declares what it reads, the trained participants and those the loss reads (a frozen teacher the loss does
    /// not read costs nothing); otherwise all.
    /// </summary>
    public static IReadOnlyList<IDistillationModel> ActiveOf(DistillationStage stage, IReadOnlyList<IDistillationModel> participants, IReadOnlyList<IDistillationModel> trainable)
    {
        if (stage.Active is not null)
        {
            return ListedActive(stage, participants);
        }

        var terms = LossRequirementsCheck.Terms(stage.Loss).ToArray();
        if (terms.Any(t => t.Requirements.IsEmpty))
        {
            return participants;
        }

        var read = terms.SelectMany(t => t.Requirements.Participants).ToHashSet(StringComparer.Ordinal);
        return participants.Where(p => trainable.Contains(p) || read.Contains(p.Name)).ToArray();
    }

    /// <summary>The participants the stage's explicit <see cref="DistillationStage.Active"/> list names, or all when it has none.</summary>
    public static IReadOnlyList<IDistillationModel> ListedActive(DistillationStage stage, IReadOnlyList<IDistillationModel> participants) =>
        stage.Active is null ? participants : participants.Where(p => stage.Active.Contains(p.Name)).ToArray();

    /// <summary>
    /// The participants a stage optimises: its explicit <see cref="DistillationStage.Trainable"/> list (the one way to say
    /// who trains), or by default every student and trainable teacher (within <see cref="DistillationStage.Active"/> when set).
    /// </summary>
    public static IReadOnlyList<IDistillationModel> TrainableOf(DistillationStage stage, IReadOnlyList<IDistillationModel> participants)
    {
        return stage.Trainable is null
            ? ListedActive(stage, participants).Where(p => p is not ITeacher t || t.IsTrainable).ToArray()
            : participants.Where(p => stage.Trainable.Contains(p.Name)).ToArray();
    }

    public OptimizerSet CreateOptimizers()
    {
        var owned = new HashSet<TorchSharp.Modules.Parameter>();
        var owners = new List<(string, OptimizerOptions, IReadOnlyList<TorchSharp.Modules.Parameter>)>();
        foreach (var participant in Trainable)
        {
            owners.Add((participant.Name, OptionsFor(participant.Name), Owned(participant.Module.parameters(), owned)));
        }

        owners.Add((DistillationStage.LossModulesOwner, OptionsFor(DistillationStage.LossModulesOwner), Owned(LossModules.SelectMany(m => m.parameters()), owned)));
        return OptimizerSet.Create(owners);
    }

    private OptimizerOptions OptionsFor(string owner) =>
        Stage.ParticipantOptimizers is { } overrides && overrides.TryGetValue(owner, out var options) ? options : OptimizerOptions;

    private static IReadOnlyList<TorchSharp.Modules.Parameter> Owned(IEnumerable<TorchSharp.Modules.Parameter> parameters, HashSet<TorchSharp.Modules.Parameter> owned) =>
        parameters.Where(p => p.requires_grad && owned.Add(p)).ToArray();

    private void ValidateParticipantOptimizers()
    {
        if (Stage.ParticipantOptimizers is not { } overrides)
        {
            return;
        }

        foreach (var (owner, options) in overrides)
        {
            if (owner != DistillationStage.LossModulesOwner && Trainable.All(p => p.Name != owner))
            {
                throw new ArgumentException(
                    $"Stage '{Stage.Name}' sets an optimiser for '{owner}', which it does not train. Keys are trained participants " +
                    $"({string.Join(", ", Trainable.Select(p => p.Name))}) or '{DistillationStage.LossModulesOwner}'.", "stages");
            }

            if (options is null)
            {
                throw new ArgumentNullException("stages", $"Stage '{Stage.Name}' has a null optimiser for '{owner}'.");
            }

            options.Validate($"Stages[{Stage.Name}].ParticipantOptimizers[{owner}]");
        }
    }

    public void SetModes()
    {
        foreach (var participant in Active)
        {
            participant.Module.train(Trainable.Contains(participant));
        }

        foreach (var module in LossModules)
        {
            module.train();
        }

        foreach (var module in Stage.Loss.FrozenModules)
        {
            module.eval();
        }
    }

    public IReadOnlyDictionary<string, ModelOutput> Forward(Batch batch) => Forward(batch, null, null);

    /// <summary>
    /// Runs the active participants on the batch. With <paramref name="only"/> set, only that participant records a graph
    /// (the others run under no_grad), and participants in <paramref name="reuse"/> that are not trained take their
    /// outputs from there (frozen participants do not change within a step).
    /// </summary>
    public IReadOnlyDictionary<string, ModelOutput> Forward(Batch batch, IDistillationModel? only, IReadOnlyDictionary<string, ModelOutput>? reuse)
    {
        var outputs = new Dictionary<string, ModelOutput>(Active.Count);
        foreach (var participant in Active)
        {
            var trained = Trainable.Contains(participant);
            if (!trained && reuse is not null && reuse.TryGetValue(participant.Name, out var kept))
            {
                outputs[participant.Name] = kept;
            }
            else if (trained && (only is null || ReferenceEquals(only, participant)))
            {
                outputs[participant.Name] = participant.Forward(batch);
            }
            else
            {
                outputs[participant.Name] = ForwardWithoutGraph(participant, batch);
            }
        }

        return outputs;
    }

    /// <summary>
    /// A forward pass under no_grad in its own dispose scope: the participant's intermediate activations are freed as soon
    /// as it returns (as PyTorch frees them when their last reference goes) instead of living until the step's end, which
    /// keeps the step's peak memory, and the page faults of allocating it afresh every step, down (docs/benchmarks.md,
    /// "Teacher forward"). Only the output's own tensors move to the step's scope.
    /// </summary>
    private static ModelOutput ForwardWithoutGraph(IDistillationModel participant, Batch batch)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var output = participant.Forward(batch);
        if (output.Logits is { } logits)
        {
            scope.MoveToOuter(logits);
        }

        scope.MoveToOuter(output.Features.Values);
        return output;
    }
}
