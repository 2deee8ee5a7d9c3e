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
}
