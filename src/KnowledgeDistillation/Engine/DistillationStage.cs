namespace KnowledgeDistillation.Engine;

/// <summary>
/// One phase of a run with its own loss, length, trainable participants and optimiser: for example an
/// autoencoder pre-training stage followed by distillation, or a teacher-frozen stage followed by a
/// stage that also adjusts the teacher.
/// </summary>
public sealed class DistillationStage
{
    /// <summary>Creates a stage.</summary>
    /// <param name="name">The stage name (unique in a run).</param>
    /// <param name="loss">The stage's objective.</param>
    public DistillationStage(string name, IDistillationLoss loss)
    {
        Name = Internal.Guard.Name(name, nameof(name));
        Loss = loss ?? throw new ArgumentNullException(nameof(loss));
    }

    /// <summary>The stage name.</summary>
    public string Name { get; }

    /// <summary>The objective.</summary>
    public IDistillationLoss Loss { get; }

    /// <summary>Epochs of this stage; <c>null</c> uses <see cref="DistillerOptions.Epochs"/>.</summary>
    public int? Epochs { get; init; }

    /// <summary>Participants optimised in this stage; <c>null</c> means every student and every trainable teacher.</summary>
    public IReadOnlyCollection<string>? Trainable { get; init; }

    /// <summary>Participants run in this stage; <c>null</c> means all. Participants outside it cost nothing.</summary>
    public IReadOnlyCollection<string>? Active { get; init; }

    /// <summary>The optimiser; <c>null</c> uses <see cref="DistillerOptions.Optimizer"/>.</summary>
    public OptimizerOptions? Optimizer { get; init; }

    /// <summary>The learning-rate schedule; <c>null</c> uses <see cref="DistillerOptions.LearningRateSchedule"/>.</summary>
    public LearningRateScheduleOptions? LearningRateSchedule { get; init; }
}
