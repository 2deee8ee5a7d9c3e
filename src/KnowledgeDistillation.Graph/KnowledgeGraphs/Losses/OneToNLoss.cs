using KnowledgeDistillation.Losses;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>The training objective of <see cref="OneToNLoss"/>.</summary>
public enum OneToNObjective
{
    /// <summary>
    /// Binary cross-entropy of every (query, entity) score against the multi-hot answers, averaged over queries and entities
    /// (ConvE, Dettmers et al. 2018; PyKEEN's <c>BCEWithLogitsLoss</c> under LCWA).
    /// </summary>
    BinaryCrossEntropy,

    /// <summary>
    /// Cross-entropy of the softmax over entities against the answers spread evenly (1vsAll; Lacroix et al. 2018,
    /// Ruffinelli et al. 2020; PyKEEN's <c>CrossEntropyLoss</c>), averaged over queries.
    /// </summary>
    SoftmaxCrossEntropy,
}

/// <summary>
/// 1-N scoring: each query of a <see cref="QueryBatchSource"/> batch is scored against every entity
/// (<see cref="KgeParticipant.AllScores"/>) and trained with all its known answers as positives and every other entity as a
/// negative, instead of sampling negatives. With label smoothing ε the targets are <c>(1 − ε) y + ε / E</c> (binary
/// cross-entropy: y the multi-hot answers; softmax cross-entropy: y the answers divided by their count). Reports "NAME".
/// </summary>
public sealed class OneToNLoss : DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="participant">The participant whose scores are trained (default "student").</param>
    /// <param name="objective">Binary or softmax cross-entropy.</param>
    /// <param name="labelSmoothing">ε in [0, 1) (ConvE: 0.1; default 0).</param>
    /// <param name="name">Reporting name (default "1-n").</param>
    /// <exception cref="ArgumentOutOfRangeException">ε is outside [0, 1), or the objective is unknown.</exception>
    public OneToNLoss(string participant = "student", OneToNObjective objective = OneToNObjective.BinaryCrossEntropy, double labelSmoothing = 0, string name = "1-n")
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(participant);
        if (!Enum.IsDefined(objective))
        {
            throw new ArgumentOutOfRangeException(nameof(objective), objective, "Use OneToNObjective.BinaryCrossEntropy or SoftmaxCrossEntropy.");
        }

        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1).");
        }

        Participant = participant;
        Objective = objective;
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>The participant name.</summary>
    public string Participant { get; }

    /// <summary>The objective.</summary>
    public OneToNObjective Objective { get; }

    /// <summary>ε, the label smoothing.</summary>
    public double LabelSmoothing { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Feature(Participant, KgeParticipant.AllScores).Extra(QueryBatchSource.AnswersKey);

    /// <summary>The loss value (see the class summary).</summary>
    /// <param name="scores">Scores of every entity per query [B, E] (floating point).</param>
    /// <param name="answers">Known answers [A, 2] (int64: row in [0, B), entity in [0, E)); every row needs at least one for the softmax objective.</param>
    /// <param name="objective">The objective.</param>
    /// <param name="labelSmoothing">ε in [0, 1).</param>
    /// <exception cref="ArgumentException">A shape, dtype or index is out of range.</exception>
    public static Tensor Value(Tensor scores, Tensor answers, OneToNObjective objective, double labelSmoothing)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(answers);
        if (scores.dim() != 2 || !is_floating_point(scores) || scores.shape[0] == 0 || scores.shape[1] == 0)
        {
            throw new ArgumentException($"1-N scores must be a non-empty floating-point [queries, entities] tensor; got {scores.dtype} {Guard.Shape(scores)}.", nameof(scores));
        }

        if (answers.dim() != 2 || answers.shape[1] != 2 || answers.dtype != ScalarType.Int64 || answers.shape[0] == 0)
        {
            throw new ArgumentException($"The answers must be a non-empty int64 [A, 2] tensor of (row, entity); got {answers.dtype} {Guard.Shape(answers)}.", nameof(answers));
        }

        Guard.SameDevice(answers, nameof(answers), scores, nameof(scores));

        var (queries, entities) = (scores.shape[0], scores.shape[1]);
        var rows = answers.select(1, 0);
        var cols = answers.select(1, 1);
        if (rows.min().item<long>() < 0 || rows.max().item<long>() >= queries || cols.min().item<long>() < 0 || cols.max().item<long>() >= entities)
        {
            throw new ArgumentException($"Every answer must name a row in [0, {queries}) and an entity in [0, {entities}).", nameof(answers));
        }

        var multiHot = zeros(queries, entities, scores.dtype, scores.device).index_put_(ones(1, scores.dtype, scores.device), rows, cols);
        if (objective == OneToNObjective.BinaryCrossEntropy)
        {
            var targets = labelSmoothing > 0 ? (multiHot * (1 - labelSmoothing)) + (labelSmoothing / entities) : multiHot;
            return nn.functional.binary_cross_entropy_with_logits(scores, targets);
        }

        var counts = multiHot.sum(1, keepdim: true);
        if (counts.min().to_type(ScalarType.Float64).item<double>() == 0)
        {
            throw new ArgumentException("The softmax objective needs at least one answer in every row.", nameof(answers));
        }

        var spread = multiHot / counts;
        var smoothed = labelSmoothing > 0 ? (spread * (1 - labelSmoothing)) + (labelSmoothing / entities) : spread;
        return -(smoothed * nn.functional.log_softmax(scores, 1)).sum(1).mean();
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Batch.Extras.TryGetValue(QueryBatchSource.AnswersKey, out var answers))
        {
            throw new InvalidOperationException($"1-N scoring needs query batches with the '{QueryBatchSource.AnswersKey}' extra: train on a QueryBatchSource.");
        }

        var scores = context.Output(Participant).Feature(KgeParticipant.AllScores, Participant);
        return new LossResult(Name, Value(scores, answers, Objective, LabelSmoothing));
    }
}
