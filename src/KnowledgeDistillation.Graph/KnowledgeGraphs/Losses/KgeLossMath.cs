using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>Shared pieces of the knowledge-graph losses: Huber distance, self-adversarial weights and argument checks.</summary>
public static class KgeLossMath
{
    /// <summary>Huber (SmoothL1, δ = 1) of a difference, element-wise: 0.5 x² for |x| &lt; 1, |x| − 0.5 otherwise.</summary>
    /// <param name="difference">Any tensor.</param>
    public static Tensor Huber(Tensor difference)
    {
        ArgumentNullException.ThrowIfNull(difference);
        var a = difference.abs();
        return where(a < 1, 0.5 * difference.square(), a - 0.5);
    }

    /// <summary>
    /// Weights over each row's negatives: <c>softmax(temperature · scores)</c>, detached (Sun et al. 2019's self-adversarial
    /// sampling), or uniform 1/N when <paramref name="temperature"/> is <c>null</c>.
    /// </summary>
    /// <param name="negativeScores">Scores [B, N].</param>
    /// <param name="temperature">The adversarial temperature α &gt; 0, or <c>null</c> for a plain mean.</param>
    public static Tensor NegativeWeights(Tensor negativeScores, double? temperature)
    {
        CheckNegatives(negativeScores, null, nameof(negativeScores));
        return temperature is { } alpha
            ? softmax(negativeScores.detach() * alpha, 1)
            : full_like(negativeScores, 1.0 / negativeScores.shape[1]).detach();
    }

    /// <summary>Checks positive scores [B].</summary>
    /// <param name="scores">The tensor.</param>
    /// <param name="name">Its name in the error.</param>
    public static void CheckPositives(Tensor scores, string name)
    {
        Guard.Rank(scores, 1, name, "[batch]");
        Guard.FloatingPoint(scores, name);
    }

    /// <summary>Checks negative scores [B, N] (and, when given, that B matches the positives).</summary>
    /// <param name="scores">The tensor.</param>
    /// <param name="positives">The positive scores [B], or <c>null</c>.</param>
    /// <param name="name">Its name in the error.</param>
    public static void CheckNegatives(Tensor scores, Tensor? positives, string name)
    {
        Guard.Rank(scores, 2, name, "[batch, negatives]");
        Guard.FloatingPoint(scores, name);
        if (positives is not null)
        {
            Guard.BatchSize(scores, positives.shape[0], name);
        }
    }

    /// <summary>
    /// The batch mean of <paramref name="values"/> ([B]), or with <paramref name="weights"/> ([B], e.g. subsampling weights)
    /// the weighted mean <c>Σ w·x / Σ w</c>, as NeuralKG's losses take it with <c>--use_weight</c>.
    /// </summary>
    /// <param name="values">Per-triple values, [B].</param>
    /// <param name="weights">Per-triple weights, [B] and positive, or <c>null</c> for the plain mean.</param>
    /// <exception cref="ArgumentException">The weights are not a [B] vector.</exception>
    public static Tensor Mean(Tensor values, Tensor? weights)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (weights is null)
        {
            return values.mean();
        }

        if (weights.dim() != 1 || weights.shape[0] != values.shape[0])
        {
            throw new ArgumentException(
                $"Subsampling weights must have shape [{values.shape[0]}] (one per triple); got {Guard.Shape(weights)}.", nameof(weights));
        }

        var w = weights.to_type(values.dtype);
        return (w * values).sum() / w.sum();
    }

    /// <summary>The batch's subsampling weights (<see cref="TripleBatchSource.SubsamplingWeightsKey"/>), or <c>null</c> when it has none.</summary>
    /// <param name="context">The step's context.</param>
    public static Tensor? SubsamplingWeights(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Batch.Extras.TryGetValue(TripleBatchSource.SubsamplingWeightsKey, out var w) ? w : null;
    }

    /// <summary>Checks that two score tensors have the same shape (the teacher and the student must score the same triples and negatives); see <see cref="Guard.SameShape"/>.</summary>
    /// <param name="a">First tensor.</param>
    /// <param name="aName">Its name.</param>
    /// <param name="b">Second tensor.</param>
    /// <param name="bName">Its name.</param>
    public static void SameShape(Tensor a, string aName, Tensor b, string bName)
    {
        Guard.SameShape(a, aName, b, bName);
    }
}
