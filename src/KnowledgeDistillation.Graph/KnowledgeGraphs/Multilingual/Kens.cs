using KnowledgeDistillation.Losses;
using Microsoft.Extensions.Logging;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// Assembles a KEnS training run (Chen et al., Findings of EMNLP 2020): one participant per language, the objective
/// <c>J = sum_i J_K(G_i) + lambda sum_(i,j) J_A(i, j)</c> as <see cref="KnowledgeTermLoss"/> + <see cref="AlignmentLoss"/>, and
/// the alternating batch stream (<see cref="MultilingualBatchSource"/>), for one <c>Distiller</c> run.
/// </summary>
public static class Kens
{
    /// <summary>Builds the participants and the loss.</summary>
    /// <param name="graph">The multilingual graph.</param>
    /// <param name="models">One model per language.</param>
    /// <param name="alignmentWeight">lambda (null: no alignment term; every model learns alone).</param>
    /// <param name="selfLearningEvery">Epochs per CSLS self-learning round (null: none).</param>
    /// <param name="adversarialTemperature">Knowledge term's self-adversarial temperature (null: uniform negatives).</param>
    /// <param name="logger">Self-learning log.</param>
    /// <param name="selfLearningCandidates">Which unaligned entities self-learning may pair (default: within CSLS neighbourhoods, as the released code).</param>
    /// <returns>The participants, the objective, and the alignment term (its <see cref="AlignmentLoss.Alignments"/> after training), or null.</returns>
    public static KensRun Build(MultilingualKnowledgeGraph graph, IReadOnlyDictionary<string, KgeModel> models, double? alignmentWeight = 1.0,
        int? selfLearningEvery = null, double? adversarialTemperature = null, ILogger? logger = null, CslsCandidates selfLearningCandidates = CslsCandidates.Neighbourhood)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var participants = MultilingualParticipants.Create(graph, models);
        DistillationLoss knowledge = new KnowledgeTermLoss(graph, adversarialTemperature);
        if (alignmentWeight is not { } weight)
        {
            return new KensRun(participants, knowledge, null);
        }
        var alignment = new AlignmentLoss(graph, models, weight, selfLearningEvery, logger: logger, selfLearningCandidates: selfLearningCandidates);
        return new KensRun(participants, knowledge + alignment, alignment);
    }
}

/// <summary>The pieces of a KEnS run.</summary>
/// <param name="Participants">One per language.</param>
/// <param name="Loss">The objective.</param>
/// <param name="Alignment">The alignment term (null without one).</param>
public sealed record KensRun(IReadOnlyList<IDistillationModel> Participants, DistillationLoss Loss, AlignmentLoss? Alignment);
