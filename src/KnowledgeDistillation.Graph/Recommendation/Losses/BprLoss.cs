using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// The BPR loss (Rendle et al. 2009) of one participant over the batch's triples, summed as in the topology-distillation
/// code: <c>−Σ_(u,i,j) log σ(u·i − u·j)</c>. Reports "NAME".
/// </summary>
public sealed class BprLoss : Losses.DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="participant">The participant trained (default "student").</param>
    /// <param name="name">Reporting name (default "bpr").</param>
    public BprLoss(string participant = "student", string name = "bpr")
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(participant);
        Participant = participant;
    }

    /// <summary>The participant's name.</summary>
    public string Participant { get; }

    /// <summary>The value for user, positive and negative rows [B, d].</summary>
    /// <param name="users">User rows.</param>
    /// <param name="positives">Positive item rows.</param>
    /// <param name="negatives">Negative item rows.</param>
    public static Tensor Value(Tensor users, Tensor positives, Tensor negatives)
    {
        Guard.SameShape(positives, nameof(positives), users, nameof(users));
        Guard.SameShape(negatives, nameof(negatives), users, nameof(users));
        using var scope = NewDisposeScope();
        var difference = (users * (positives - negatives)).sum(1);
        return (-nn.functional.logsigmoid(difference).sum()).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None
        .Feature(Participant, RecommenderParticipant.Users).Feature(Participant, RecommenderParticipant.Items);

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var triples = RecommenderParticipant.CheckTriples(context.Batch.Inputs, nameof(context));
        var output = context.Output(Participant);
        var users = output.Feature(RecommenderParticipant.Users, Participant);
        var items = output.Feature(RecommenderParticipant.Items, Participant);
        return new LossResult(Name, Value(
            users.index_select(0, triples.select(1, 0)),
            items.index_select(0, triples.select(1, 1)),
            items.index_select(0, triples.select(1, 2))));
    }
}
