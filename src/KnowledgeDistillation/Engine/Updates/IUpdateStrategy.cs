namespace KnowledgeDistillation.Engine;

/// <summary>How one training step turns a batch into parameter updates (<see cref="ParticipantUpdateOrder"/>).</summary>
internal interface IUpdateStrategy
{
    /// <summary>
    /// Runs the step: forward, loss, backward, optimiser steps, accumulation. Returns the step's first context (the one
    /// the loss's step-end hook sees), or null when the non-finite policy skipped the batch
    /// (then the step does not count).
    /// </summary>
    DistillationContext? Step(StepContext step);
}
