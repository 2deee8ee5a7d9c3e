using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// DR-KD's "dynamic" self-teacher (the default): the student's logits of the current forward pass, detached.
/// Costs nothing beyond the student's own forward pass. With it, a correctly classified sample contributes
/// exactly zero KD loss and gradient; a misclassified one is pulled towards its rectified (swapped) distribution.
/// </summary>
public sealed class DynamicSelfTeacher : ISelfTeacherSource
{
    /// <summary>The shared instance (the source has no state).</summary>
    public static DynamicSelfTeacher Instance { get; } = new();

    /// <inheritdoc />
    public Tensor TeacherLogits(DistillationContext context, Tensor studentLogits)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        return studentLogits.detach();
    }
}
