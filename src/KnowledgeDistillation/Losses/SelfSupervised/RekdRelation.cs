using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// How ReKD's frozen teacher turns its embeddings into relation targets: for each sample, a distribution over the
/// candidates [own key, anchor 1, ..., anchor K] (rows sum to 1) that <see cref="RekdLoss"/> uses as the weights of the
/// student's log-probabilities over the same candidates.
/// </summary>
public interface IRekdRelation
{
    /// <summary>The targets for unit teacher embeddings of the batch and of the anchors, computed without gradient.</summary>
    /// <param name="teacher">The teacher's unit embeddings of the batch [B, D_t].</param>
    /// <param name="anchors">The teacher's unit embeddings of the queued anchors [K, D_t].</param>
    /// <returns>Targets [B, 1 + K] whose rows sum to 1.</returns>
    Tensor Targets(Tensor teacher, Tensor anchors);
}

/// <summary>
/// Hard relations in the supervised-contrastive form: the own key and the <c>k</c> anchors the teacher finds most similar
/// are positives, each weighted <c>1 / (1 + k)</c>, so the term is <c>−(log p_own + Σ_{j∈P} log p_j) / (1 + |P|)</c>.
/// With <c>k = 0</c> it is plain instance contrast. (The paper mines positives as anchors in the teacher's semantic cluster;
/// the teacher's nearest neighbours are our stand-in for teachers without prototypes.)
/// </summary>
public sealed class NearestAnchorRelation : IRekdRelation
{
    /// <summary>Creates the relation.</summary>
    /// <param name="neighbours">k &gt;= 0, the anchors taken as positives per sample.</param>
    /// <exception cref="ArgumentOutOfRangeException">k is negative.</exception>
    public NearestAnchorRelation(int neighbours = 5)
    {
        Neighbours = neighbours >= 0 ? neighbours : throw new ArgumentOutOfRangeException(nameof(neighbours), neighbours, "The number of positive anchors must be >= 0.");
    }

    /// <summary>k, the anchors taken as positives per sample.</summary>
    public int Neighbours { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">k exceeds the number of anchors.</exception>
    public Tensor Targets(Tensor teacher, Tensor anchors)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(anchors);
        if (Neighbours > anchors.shape[0])
        {
            throw new ArgumentException($"ReKD takes {Neighbours} nearest anchors as positives, but the queue holds only {anchors.shape[0]}.", nameof(anchors));
        }

        using var noGrad = no_grad();
        var batch = teacher.shape[0];
        var targets = zeros(batch, anchors.shape[0] + 1, teacher.dtype, teacher.device);
        targets.select(1, 0).fill_(1);
        if (Neighbours > 0)
        {
            var nearest = teacher.matmul(anchors.t()).topk(Neighbours, 1).indexes + 1;
            targets.scatter_(1, nearest, ones(batch, Neighbours, teacher.dtype, teacher.device));
        }

        return targets / (1.0 + Neighbours);
    }
}

/// <summary>
/// Soft relations: the teacher's similarity distribution over the candidates,
/// <c>softmax([z_t·z_t, z_t·a_1, ..., z_t·a_K] / τ_t)</c> (the own key's teacher similarity is the sample's own, 1).
/// </summary>
public sealed class SoftRelation : IRekdRelation
{
    /// <summary>Creates the relation.</summary>
    /// <param name="temperature">τ_t &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">τ_t &lt;= 0.</exception>
    public SoftRelation(double temperature = 0.05)
    {
        Temperature = Guard.Positive(temperature, nameof(temperature));
    }

    /// <summary>τ_t.</summary>
    public double Temperature { get; }

    /// <inheritdoc />
    public Tensor Targets(Tensor teacher, Tensor anchors)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(anchors);
        using var noGrad = no_grad();
        return (cat(new[] { (teacher * teacher).sum(1, keepdim: true), teacher.matmul(anchors.t()) }, 1) / Temperature).softmax(1);
    }
}
