namespace KnowledgeDistillation.Engine;

/// <summary>What the engine does when a step's loss is NaN or infinite.</summary>
public enum NonFiniteLossPolicy
{
    /// <summary>Throw <see cref="NonFiniteLossException"/> naming the stage, epoch, step and loss parts.</summary>
    Throw,

    /// <summary>Skip the batch (no parameter update) and count it in <see cref="EpochRecord.SkippedSteps"/>.</summary>
    Skip,
}
