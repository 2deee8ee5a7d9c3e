using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Where a self-distillation loss (<see cref="DrKdLoss"/>) gets its self-teacher's logits for a batch:
/// <see cref="DynamicSelfTeacher"/> (the same forward pass, detached) or <see cref="PreviousEpochSelfTeacher"/>
/// (the student's own logits for the same samples one epoch earlier, kept in the engine's per-sample store).
/// Reading is free of side effects; a source that remembers logits does so in <see cref="Record"/>, which the loss
/// calls from its step-end hook, and exposes what it remembers as checkpointed <see cref="State"/>.
/// </summary>
public interface ISelfTeacherSource
{
    /// <summary>Returns the self-teacher's logits [B, K] for the batch, detached (no gradient flows into them).</summary>
    /// <param name="context">The step (batch with sample indices, epoch, whether it is a training step).</param>
    /// <param name="studentLogits">The student's logits of the current forward pass [B, K].</param>
    Tensor TeacherLogits(DistillationContext context, Tensor studentLogits);

    /// <summary>Remembers the step's student logits (called after the optimiser step); the default remembers nothing.</summary>
    /// <param name="context">The step's context.</param>
    /// <param name="studentLogits">The student's logits the step's loss was computed from [B, K].</param>
    void Record(DistillationContext context, Tensor studentLogits)
    {
    }

    /// <summary>What the source remembers, for checkpoints; empty by default.</summary>
    IReadOnlyList<ILossState> State => Array.Empty<ILossState>();
}
