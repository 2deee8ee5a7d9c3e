using KnowledgeDistillation.Internal;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// A method ready to run: its ordered stages (each with its loss, trained and active participants, optimiser overrides)
/// and the extra models to evaluate beside the participants (a SOKD bridge). Every method in the catalogue
/// (<see cref="Losses.Recipes"/>) returns one; <see cref="Distiller"/> accepts it. Build your own with the constructor or
/// <see cref="FromLoss"/>.
/// </summary>
public sealed class DistillationRecipe
{
    /// <summary>Creates a recipe.</summary>
    /// <param name="name">The method's name (lower-case words joined by '-', e.g. "ie-kd").</param>
    /// <param name="stages">The stages, run in order, with unique names (at least one).</param>
    /// <param name="evaluationModels">
    /// Builders of models to evaluate beside the participants; each receives the run's participants (to find, say, the
    /// teacher whose feature a bridge reads) and returns a model named unlike any participant.
    /// </param>
    /// <exception cref="ArgumentException">An empty name, no stages, or two stages share a name.</exception>
    public DistillationRecipe(
        string name,
        IEnumerable<DistillationStage> stages,
        IEnumerable<Func<IReadOnlyList<IDistillationModel>, IDistillationModel>>? evaluationModels = null)
    {
        ArgumentNullException.ThrowIfNull(stages);
        Name = Guard.Name(name, nameof(name));
        Stages = stages.Select(s => s ?? throw new ArgumentNullException(nameof(stages))).ToArray();
        if (Stages.Count == 0)
        {
            throw new ArgumentException("A recipe needs at least one stage.", nameof(stages));
        }

        var duplicate = Stages.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Two stages of recipe '{Name}' are named '{duplicate.Key}'.", nameof(stages));
        }

        EvaluationModels = (evaluationModels ?? Array.Empty<Func<IReadOnlyList<IDistillationModel>, IDistillationModel>>())
            .Select(f => f ?? throw new ArgumentNullException(nameof(evaluationModels))).ToArray();
    }

    /// <summary>The name of the single stage of <see cref="FromLoss"/> recipes (the name <see cref="Distiller"/> gives a lone loss).</summary>
    public const string SingleStage = "distill";

    /// <summary>The method's name.</summary>
    public string Name { get; }

    /// <summary>The stages, in order.</summary>
    public IReadOnlyList<DistillationStage> Stages { get; }

    /// <summary>Builders of the models evaluated beside the participants (see the constructor).</summary>
    public IReadOnlyList<Func<IReadOnlyList<IDistillationModel>, IDistillationModel>> EvaluationModels { get; }

    /// <summary>Every stage's loss, each once, in stage order.</summary>
    public IReadOnlyList<IDistillationLoss> Losses => Stages.Select(s => s.Loss).Distinct().ToArray();

    /// <summary>A one-stage recipe (stage <see cref="SingleStage"/>) that trains every student and trainable teacher.</summary>
    /// <param name="name">The method's name.</param>
    /// <param name="loss">The objective.</param>
    /// <param name="updateOrder">How several trained participants are updated in a step.</param>
    public static DistillationRecipe FromLoss(string name, IDistillationLoss loss, ParticipantUpdateOrder updateOrder = ParticipantUpdateOrder.Simultaneous) =>
        new(name, new[] { new DistillationStage(SingleStage, loss ?? throw new ArgumentNullException(nameof(loss))) { UpdateOrder = updateOrder } });

    /// <summary>The participant named <paramref name="name"/> (for evaluation-model builders).</summary>
    /// <param name="participants">The run's participants.</param>
    /// <param name="name">The name to find.</param>
    /// <exception cref="ArgumentException">No participant has that name.</exception>
    public static IDistillationModel Participant(IReadOnlyList<IDistillationModel> participants, string name)
    {
        ArgumentNullException.ThrowIfNull(participants);
        return participants.FirstOrDefault(p => p.Name == name)
            ?? throw new ArgumentException(
                $"The recipe needs a participant named '{name}'; the participants are: {string.Join(", ", participants.Select(p => $"'{p.Name}'"))}.",
                nameof(participants));
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({string.Join(" -> ", Stages.Select(s => s.Name))})";
}
