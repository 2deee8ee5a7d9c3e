using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Where a self-distillation loss (<see cref="DrKdLoss"/>) gets its self-teacher's logits for a batch:
/// <see cref="DynamicSelfTeacher"/> (the same forward pass, detached) or <see cref="PreviousEpochSelfTeacher"/>
/// (the student's own logits for the same samples one epoch earlier, kept in the engine's per-sample store).
/// </summary>
public interface ISelfTeacherSource
{
    /// <summary>Returns the self-teacher's logits [B, K] for the batch, detached (no gradient flows into them).</summary>
    /// <param name="context">The step (batch with sample indices, epoch, whether it is a training step).</param>
    /// <param name="studentLogits">The student's logits of the current forward pass [B, K].</param>
    Tensor TeacherLogits(DistillationContext context, Tensor studentLogits);
}
