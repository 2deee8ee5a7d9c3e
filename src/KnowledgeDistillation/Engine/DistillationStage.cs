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
        Name = Guard.Name(name, nameof(name));
        Loss = loss ?? throw new ArgumentNullException(nameof(loss));
    }

    /// <summary>The stage name.</summary>
    public string Name { get; }

    /// <summary>The objective.</summary>
    public IDistillationLoss Loss { get; }

    /// <summary>Epochs of this stage; <c>null</c> uses <see cref="DistillerOptions.Epochs"/>.</summary>
    public int? Epochs { get; init; }

    /// <summary>
    /// Who trains in this stage: the one place to say it (roles only set the default). <c>null</c> means every student and
    /// every trainable teacher; <c>["teacher"]</c> trains a teacher first, <c>[]</c> trains only the loss's own modules.
    /// </summary>
    public IReadOnlyCollection<string>? Trainable { get; init; }

    /// <summary>
    /// Participants run in this stage. <c>null</c> means the trained participants plus those the loss declares it reads
    /// (<see cref="IDistillationLoss.Requirements"/>), or all participants when a term of the loss declares nothing.
    /// Participants outside it cost nothing.
    /// </summary>
    public IReadOnlyCollection<string>? Active { get; init; }

    /// <summary>
    /// The optimiser settings of everything trained in this stage that <see cref="ParticipantOptimizers"/> does not name;
    /// <c>null</c> uses <see cref="DistillerOptions.Optimizer"/>.
    /// </summary>
    public OptimizerOptions? Optimizer { get; init; }

    /// <summary>
    /// Per-owner optimiser settings, keyed by participant name or by <see cref="LossModulesOwner"/> for the parameters of the
    /// loss's own modules (a SOKD bridge, IE-KD encoders). Every trained participant always has its own optimiser (and the
    /// loss modules one more); this only changes the settings of the named ones, e.g. a different learning rate for a bridge.
    /// </summary>
    public IReadOnlyDictionary<string, OptimizerOptions>? ParticipantOptimizers { get; init; }

    /// <summary>
    /// How the trained participants are updated in one step: all from one loss evaluation (default), or one after the other
    /// with the outputs recomputed in between (Deep Mutual Learning's Algorithm 1).
    /// </summary>
    public ParticipantUpdateOrder UpdateOrder { get; init; } = ParticipantUpdateOrder.Simultaneous;

    /// <summary>The key of <see cref="ParticipantOptimizers"/> that names the loss's own trainable modules.</summary>
    public const string LossModulesOwner = "loss-modules";

    /// <summary>The learning-rate schedule; <c>null</c> uses <see cref="DistillerOptions.LearningRateSchedule"/>.</summary>
    public LearningRateScheduleOptions? LearningRateSchedule { get; init; }

    /// <summary>
    /// The same stage (name, epochs, trainable and active participants, optimisers, update order, schedule) with another
    /// objective, e.g. a recipe's stage plus a regulariser: <c>stage.WithLoss(stage.Loss + regulariser)</c>.
    /// </summary>
    /// <param name="loss">The new objective.</param>
    /// <returns>A new stage; this one is unchanged.</returns>
    public DistillationStage WithLoss(IDistillationLoss loss) => new(Name, loss)
    {
        Epochs = Epochs,
        Trainable = Trainable,
        Active = Active,
        Optimizer = Optimizer,
        ParticipantOptimizers = ParticipantOptimizers,
        UpdateOrder = UpdateOrder,
        LearningRateSchedule = LearningRateSchedule,
    };
}
