using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>The entropy of softmax-normalised graph edge weights, shared by the logits and representation graphs.</summary>
internal static class EdgeWeightEntropy
{
    /// <summary><c>H(softmax(θ)) = −Σ_e w_e log w_e</c>, computed from log-softmax (finite for any logits).</summary>
    /// <param name="edgeLogits">The edge logits θ [edges].</param>
    public static Tensor Of(Tensor edgeLogits)
    {
        var logW = nn.functional.log_softmax(edgeLogits, 0);
        return -(logW.exp() * logW).sum();
    }

    /// <summary>
    /// Subtracts the entropy bonus <c>β H(softmax(θ))</c> from a graph term's value and reports the entropy as the part
    /// "NAME.edge-entropy"; with β = 0 returns <paramref name="value"/> unchanged and reports nothing.
    /// </summary>
    /// <param name="value">The term's value before the bonus.</param>
    /// <param name="edgeLogits">The graph's edge logits θ.</param>
    /// <param name="weight">β &gt;= 0.</param>
    /// <param name="name">The term's reporting name.</param>
    /// <param name="parts">Receives the entropy part when β &gt; 0.</param>
    public static Tensor SubtractBonus(Tensor value, Tensor edgeLogits, double weight, string name, IDictionary<string, Tensor> parts)
    {
        if (weight <= 0)
        {
            return value;
        }

        var entropy = Of(edgeLogits).to(value.dtype);
        parts[$"{name}.edge-entropy"] = entropy.detach();
        return value - (weight * entropy);
    }
}
