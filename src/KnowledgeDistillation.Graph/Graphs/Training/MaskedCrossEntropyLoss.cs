using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Cross-entropy of one participant's logits on the nodes of a batch mask (default: the training nodes); for training GNN teachers on a graph.</summary>
public sealed class MaskedCrossEntropyLoss : Losses.DistillationLoss
{
    private readonly string participant;
    private readonly string mask;

    /// <summary>Creates the loss for <paramref name="participant"/> on the nodes where the extras mask <paramref name="mask"/> is true.</summary>
    public MaskedCrossEntropyLoss(string participant = "teacher", string mask = GraphBatchSource.TrainMask)
        : base("ce")
    {
        this.participant = string.IsNullOrWhiteSpace(participant) ? throw new ArgumentException("A participant name is required.", nameof(participant)) : participant;
        this.mask = string.IsNullOrWhiteSpace(mask) ? throw new ArgumentException("A mask name is required.", nameof(mask)) : mask;
    }

    /// <summary>Mean cross-entropy of <paramref name="logits"/> [N, C] against <paramref name="labels"/> [N] over the nodes where <paramref name="mask"/> [N] is true.</summary>
    public static Tensor Value(Tensor logits, Tensor labels, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(mask);
        GraphLossChecks.NodeMask(mask, logits, nameof(mask));
        using var scope = NewDisposeScope();
        var index = mask.nonzero().squeeze(1);
        return nn.functional.cross_entropy(logits.index_select(0, index), labels.index_select(0, index)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Logits(participant).Targets().Extra(mask);

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var logits = context.Output(participant).RequireLogits(participant);
        return new LossResult(Name, Value(logits, context.Batch.RequireTargets(), GraphLossChecks.Extra(context, mask)));
    }
}
