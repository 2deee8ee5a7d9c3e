using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// KEnS's per-language knowledge term J_K on a knowledge batch of <see cref="MultilingualBatchSource"/>: the batch
/// language's participant is scored with the log-sigmoid loss of RotatE (<see cref="SelfAdversarialLoss.Value"/>; with a
/// null temperature the negatives are averaged uniformly, the paper's form), for TransE and RotatE alike. Zero on
/// alignment batches.
/// </summary>
public sealed class KnowledgeTermLoss : Losses.DistillationLoss
{
    private readonly IReadOnlyList<string> _languages;

    /// <summary>Creates the term.</summary>
    /// <param name="graph">The multilingual graph (participants are named by its languages).</param>
    /// <param name="adversarialTemperature">Self-adversarial temperature, or null for uniform negatives.</param>
    /// <param name="name">Part name.</param>
    public KnowledgeTermLoss(MultilingualKnowledgeGraph graph, double? adversarialTemperature = null, string name = "knowledge")
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (adversarialTemperature is { } a && (!(a > 0) || double.IsInfinity(a)))
        {
            throw new ArgumentOutOfRangeException(nameof(adversarialTemperature), a, "'adversarialTemperature' must be a finite number > 0, or null.");
        }
        _languages = graph.Languages;
        AdversarialTemperature = adversarialTemperature;
    }

    /// <summary>The self-adversarial temperature, or null.</summary>
    public double? AdversarialTemperature { get; }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (MultilingualBatchSource.LanguageOf(context.Batch) is not { } language)
        {
            return new LossResult(Name, zeros(1, device: context.Batch.Inputs.device).squeeze());
        }
        var participant = _languages[language];
        var output = context.Output(participant);
        return new LossResult(Name, SelfAdversarialLoss.Value(
            output.Feature(KgeParticipant.PositiveScores, participant),
            output.Feature(KgeParticipant.NegativeScores, participant),
            AdversarialTemperature));
    }
}
