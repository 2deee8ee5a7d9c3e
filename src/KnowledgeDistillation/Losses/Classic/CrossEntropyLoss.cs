using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>Cross-entropy of a participant's logits against the batch's class labels, with optional label smoothing (batch mean).</summary>
public sealed class CrossEntropyLoss : DistillationLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="participant">Whose logits to train (default "student").</param>
    /// <param name="labelSmoothing">Label-smoothing epsilon in [0, 1): the target mixes one-hot and uniform as PyTorch defines it.</param>
    /// <param name="name">Reporting name (default "ce").</param>
    public CrossEntropyLoss(string participant = "student", double labelSmoothing = 0.0, string name = "ce")
        : base(name)
    {
        Participant = Guard.Name(participant, nameof(participant));
        LabelSmoothing = CheckLabelSmoothing(labelSmoothing);
    }

    /// <summary>Whose logits are trained.</summary>
    public string Participant { get; }

    /// <summary>The label-smoothing epsilon.</summary>
    public double LabelSmoothing { get; }

    /// <summary>
    /// Mean over the batch of <c>-sum_k q_k log softmax(z)_k</c> with <c>q = (1 - eps) onehot(y) + eps / K</c>.
    /// </summary>
    /// <param name="logits">Logits [batch, classes].</param>
    /// <param name="targets">Class indices, int64 [batch].</param>
    /// <param name="labelSmoothing">Label-smoothing epsilon in [0, 1).</param>
    public static Tensor Value(Tensor logits, Tensor targets, double labelSmoothing = 0.0)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        Guard.Logits(logits, nameof(logits));
        Guard.Labels(targets, logits, nameof(targets));
        CheckLabelSmoothing(labelSmoothing);
        return nn.functional.cross_entropy(logits, targets, label_smoothing: labelSmoothing);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Logits(Participant).Targets();

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var logits = context.Output(Participant).RequireLogits(Participant);
        return new LossResult(Name, Value(logits, context.Batch.RequireTargets(), LabelSmoothing));
    }

    private static double CheckLabelSmoothing(double labelSmoothing) =>
        labelSmoothing >= 0 && labelSmoothing < 1
            ? labelSmoothing
            : throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "'labelSmoothing' must be in [0, 1).");
}

public static partial class Loss
{
    /// <summary>
    /// Cross-entropy with the labels, with optional label smoothing (Szegedy et al. 2016, "Rethinking the Inception
    /// Architecture for Computer Vision", CVPR). Reports "NAME".
    /// </summary>
    /// <param name="participant">Whose logits to train.</param>
    /// <param name="labelSmoothing">Label-smoothing epsilon in [0, 1).</param>
    /// <param name="name">Reporting name (use "ce-&lt;participant&gt;" for one per peer).</param>
    public static CrossEntropyLoss CrossEntropy(string participant = "student", double labelSmoothing = 0.0, string name = "ce") =>
        new(participant, labelSmoothing, name);
}
