using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Engine;

/// <summary>What an update strategy needs for one training step.</summary>
/// <param name="Run">The stage's resolved settings.</param>
/// <param name="Optimizers">The stage's optimisers.</param>
/// <param name="Batch">The batch.</param>
/// <param name="Epoch">The epoch within the stage.</param>
/// <param name="Step">The global step.</param>
/// <param name="Sums">The epoch's accumulators.</param>
/// <param name="InspectOutputs">Checks the step's first outputs before the loss sees them (class counts, once per run).</param>
internal sealed record StepContext(
    StageRun Run,
    OptimizerSet Optimizers,
    Batch Batch,
    int Epoch,
    long Step,
    EpochAccumulator Sums,
    Action<IReadOnlyDictionary<string, ModelOutput>> InspectOutputs)
{
    /// <summary>A loss context for this step over <paramref name="outputs"/>.</summary>
    public DistillationContext Context(IReadOnlyDictionary<string, ModelOutput> outputs) =>
        new(Batch, outputs, Run.Stage.Name, Epoch, Step, isTraining: true);
}
