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
        ArgumentNullException.ThrowIfNull(scores, name);
        if (scores.dim() != 1 || !is_floating_point(scores))
        {
            throw new ArgumentException($"'{name}' must be floating-point scores of shape [batch]; got {scores.dtype} [{string.Join(", ", scores.shape)}].", name);
        }
    }

    /// <summary>Checks negative scores [B, N] (and, when given, that B matches the positives).</summary>
    /// <param name="scores">The tensor.</param>
    /// <param name="positives">The positive scores [B], or <c>null</c>.</param>
    /// <param name="name">Its name in the error.</param>
    public static void CheckNegatives(Tensor scores, Tensor? positives, string name)
    {
        ArgumentNullException.ThrowIfNull(scores, name);
        if (scores.dim() != 2 || !is_floating_point(scores) || (positives is not null && scores.shape[0] != positives.shape[0]))
        {
            var rows = positives is null ? "batch" : positives.shape[0].ToString(System.Globalization.CultureInfo.InvariantCulture);
            throw new ArgumentException($"'{name}' must be floating-point scores of shape [{rows}, negatives]; got {scores.dtype} [{string.Join(", ", scores.shape)}].", name);
        }
    }

    /// <summary>Checks that two score tensors have the same shape.</summary>
    /// <param name="a">First tensor.</param>
    /// <param name="aName">Its name.</param>
    /// <param name="b">Second tensor.</param>
    /// <param name="bName">Its name.</param>
    public static void SameShape(Tensor a, string aName, Tensor b, string bName)
    {
        if (!a.shape.SequenceEqual(b.shape))
        {
            throw new ArgumentException(
                $"'{aName}' [{string.Join(", ", a.shape)}] and '{bName}' [{string.Join(", ", b.shape)}] must have the same shape " +
                "(the teacher and the student must score the same triples and negatives).", aName);
        }
    }
}
