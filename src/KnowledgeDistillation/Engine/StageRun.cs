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
        Active = stage.Active is null ? participants : participants.Where(p => stage.Active.Contains(p.Name)).ToArray();
        Trainable = TrainableOf(stage, participants);
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

    /// <summary>The participants a stage optimises: its explicit list, or every student and trainable teacher that is active.</summary>
    public static IReadOnlyList<IDistillationModel> TrainableOf(DistillationStage stage, IReadOnlyList<IDistillationModel> participants)
    {
        var active = stage.Active is null ? participants : participants.Where(p => stage.Active.Contains(p.Name)).ToArray();
        return stage.Trainable is null
            ? active.Where(p => p is not ITeacher t || t.IsTrainable).ToArray()
            : participants.Where(p => stage.Trainable.Contains(p.Name)).ToArray();
    }

    public optim.Optimizer CreateOptimizer()
    {
        var o = OptimizerOptions;
        return o.Kind switch
        {
            OptimizerKind.Adam => optim.Adam(Parameters, o.LearningRate, o.Beta1, o.Beta2, weight_decay: o.WeightDecay),
            OptimizerKind.AdamW => optim.AdamW(Parameters, o.LearningRate, o.Beta1, o.Beta2, weight_decay: o.WeightDecay),
            _ => optim.SGD(Parameters, o.LearningRate, o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Nesterov),
        };
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
    }

    public IReadOnlyDictionary<string, ModelOutput> Forward(Batch batch)
    {
        var outputs = new Dictionary<string, ModelOutput>(Active.Count);
        foreach (var participant in Active)
        {
            if (Trainable.Contains(participant))
            {
                outputs[participant.Name] = participant.Forward(batch);
            }
            else
            {
                using var noGrad = no_grad();
                outputs[participant.Name] = participant.Forward(batch);
            }
        }

        return outputs;
    }
}
