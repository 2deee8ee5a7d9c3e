using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// The negative-sampling loss of Sun et al. (2019), RotatE, with self-adversarial weighting: the hard-label loss of a KGE model,
/// <c>mean_b[−log σ(f(x_b))] + mean_b[−Σ_j w_bj log σ(−f(x'_bj))]</c>, <c>w = softmax(α f(x'))</c> detached (uniform when α is null).
/// This is the sum of the positive and negative terms (NeuralKG's Adv_Loss halves it).
/// </summary>
public sealed class SelfAdversarialLoss : Losses.DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="participant">The participant whose scores are trained (default "student").</param>
    /// <param name="adversarialTemperature">α &gt; 0, or <c>null</c> for uniform weights (default 1).</param>
    /// <param name="name">Reporting name (default "hard").</param>
    public SelfAdversarialLoss(string participant = "student", double? adversarialTemperature = 1.0, string name = "hard")
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(participant);
        if (adversarialTemperature is { } a && (!(a > 0) || double.IsInfinity(a)))
        {
            throw new ArgumentOutOfRangeException(nameof(adversarialTemperature), a, "'adversarialTemperature' must be a finite number > 0, or null.");
        }
        Participant = participant;
        AdversarialTemperature = adversarialTemperature;
    }

    /// <summary>The participant name.</summary>
    public string Participant { get; }

    /// <summary>α, or <c>null</c> for uniform weights.</summary>
    public double? AdversarialTemperature { get; }

    /// <summary>Per-triple hard loss of the positives: <c>−log σ(f(x))</c>, [B].</summary>
    /// <param name="positive">Scores [B].</param>
    public static Tensor PositiveTerm(Tensor positive) => -nn.functional.logsigmoid(positive);

    /// <summary>Per-triple pooled hard loss of the negatives: <c>−Σ_j w_j log σ(−f(x'_j))</c>, [B].</summary>
    /// <param name="negative">Scores [B, N].</param>
    /// <param name="weights">Weights [B, N] (rows sum to 1).</param>
    public static Tensor NegativeTerm(Tensor negative, Tensor weights) => -(weights * nn.functional.logsigmoid(-negative)).sum(1);

    /// <summary>The loss value (see the class summary).</summary>
    /// <param name="positive">Positive scores [B].</param>
    /// <param name="negative">Negative scores [B, N].</param>
    /// <param name="adversarialTemperature">α &gt; 0, or <c>null</c> for uniform weights.</param>
    /// <param name="subsamplingWeights">Per-triple weights [B] for weighted batch means (<see cref="TripleBatchSource.SubsamplingWeightsKey"/>), or <c>null</c> (plain means).</param>
    public static Tensor Value(Tensor positive, Tensor negative, double? adversarialTemperature, Tensor? subsamplingWeights = null)
    {
        KgeLossMath.CheckPositives(positive, nameof(positive));
        KgeLossMath.CheckNegatives(negative, positive, nameof(negative));
        var weights = KgeLossMath.NegativeWeights(negative, adversarialTemperature);
        return KgeLossMath.Mean(PositiveTerm(positive), subsamplingWeights) + KgeLossMath.Mean(NegativeTerm(negative, weights), subsamplingWeights);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Feature(Participant, KgeParticipant.PositiveScores).Feature(Participant, KgeParticipant.NegativeScores);

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var output = context.Output(Participant);
        return new LossResult(Name, Value(
            output.Feature(KgeParticipant.PositiveScores, Participant),
            output.Feature(KgeParticipant.NegativeScores, Participant),
            AdversarialTemperature,
            KgeLossMath.SubsamplingWeights(context)));
    }
}
