using System.Globalization;
using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// A text description of everything the ranks of a data-parallel run must agree on before the first step (participants
/// and their tensors' shapes, stages, options, data sizes, resume or not), item by item, for <see cref="DataParallel.CheckAgreement"/>.
/// Thread counts and devices may differ between ranks and are left out.
/// </summary>
internal static class SetupDescription
{
    public static IReadOnlyList<(string Item, string Description)> Of(
        IReadOnlyList<IDistillationModel> participants, IReadOnlyList<DistillationStage> stages, DistillerOptions options, IBatchSource train, IBatchSource? evaluation, string? resumeFrom)
    {
        return new[]
        {
            ("participants", string.Join("; ", participants.Select(Describe))),
            ("stages", string.Join("; ", stages.Select(s => Describe(s, options)))),
            ("options", Describe(options)),
            ("training data", Describe(train)),
            ("evaluation data", evaluation is null ? "none" : Describe(evaluation)),
            ("start", resumeFrom is null ? "fresh start" : $"resume from {Path.GetFullPath(resumeFrom)}"),
        };
    }

    private static string Describe(IDistillationModel participant)
    {
        var role = participant is ITeacher teacher ? (teacher.IsTrainable ? "trainable teacher" : "teacher") : "student";
        return $"{participant.Name} ({role}, {participant.Module.GetType().Name}: {Tensors(participant.Module)})";
    }

    private static string Describe(DistillationStage stage, DistillerOptions options) =>
        $"{stage.Name}: loss {stage.Loss.Name} ({stage.Loss.GetType().Name}), epochs {stage.Epochs ?? options.Epochs}, " +
        $"trainable [{string.Join(",", stage.Trainable ?? Array.Empty<string>())}], active [{string.Join(",", stage.Active ?? Array.Empty<string>())}], " +
        $"order {stage.UpdateOrder}, optimizer {(stage.Optimizer is null ? "default" : Describe(stage.Optimizer))}, " +
        $"loss modules [{string.Join(", ", stage.Loss.TrainableModules.Select(m => $"{m.GetType().Name}: {Tensors(m)}"))}]";

    private static string Describe(DistillerOptions options) => string.Create(
        CultureInfo.InvariantCulture,
        $"epochs {options.Epochs}, seed {options.Seed?.ToString(CultureInfo.InvariantCulture) ?? "none"}, optimizer {Describe(options.Optimizer)}, " +
        $"schedule {options.LearningRateSchedule.Kind} [{string.Join(",", options.LearningRateSchedule.Milestones)}] gamma {options.LearningRateSchedule.Gamma} " +
        $"min {options.LearningRateSchedule.MinLearningRate} warm-up {options.LearningRateSchedule.WarmupEpochs}, max grad norm {options.MaxGradNorm?.ToString(CultureInfo.InvariantCulture) ?? "none"}, " +
        $"non-finite {options.NonFiniteLoss}/{options.NonFiniteCheck}, checkpoint {options.Checkpoint.FilePath ?? "none"} every {options.Checkpoint.EveryEpochs}, " +
        $"evaluate every {options.EvaluateEveryEpochs}, gradient bucket {options.GradientBucketBytes} bytes");

    private static string Describe(OptimizerOptions optimizer) => string.Create(
        CultureInfo.InvariantCulture,
        $"{optimizer.Kind}{(optimizer.FactoryName is null ? string.Empty : "/" + optimizer.FactoryName)} lr {optimizer.LearningRate} momentum {optimizer.Momentum} " +
        $"nesterov {optimizer.Nesterov} decay {optimizer.WeightDecay} betas {optimizer.Beta1},{optimizer.Beta2}");

    private static string Describe(IBatchSource source) =>
        $"{source.GetType().Name}: {source.SampleCount} samples in {source.BatchCount} batches, classes {source.ClassCount?.ToString(CultureInfo.InvariantCulture) ?? "none"}";

    private static string Tensors(TorchSharp.torch.nn.Module module) =>
        string.Join(",", module.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}:{kv.Value.dtype}{Guard.FormatShape(kv.Value.shape)}"));
}
