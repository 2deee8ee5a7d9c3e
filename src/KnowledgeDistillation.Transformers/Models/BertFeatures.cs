using System.Globalization;

namespace KnowledgeDistillation.Transformers;

/// <summary>
/// Names of the features a <see cref="BertForSequenceClassification"/> returns in its <see cref="ModelOutput"/>, for
/// losses to declare and read.
/// </summary>
public static class BertFeatures
{
    /// <summary>The embedding output, <c>[batch, tokens, hidden]</c> (Hugging Face's <c>hidden_states[0]</c>).</summary>
    public const string Embeddings = "embeddings";

    /// <summary>The padding mask, <c>[batch, tokens]</c> float32 with 1 for real tokens and 0 for padding.</summary>
    public const string AttentionMask = "attention_mask";

    /// <summary>The pooler output (tanh of a dense layer over the [CLS] state), <c>[batch, hidden]</c>.</summary>
    public const string Pooled = "pooled";

    /// <summary>The output of encoder layer <paramref name="layer"/> (1-based), <c>[batch, tokens, hidden]</c>; layer 0 is <see cref="Embeddings"/>.</summary>
    /// <param name="layer">0 (embeddings) to the number of layers.</param>
    /// <returns>The feature name (<c>hidden.3</c>).</returns>
    public static string Hidden(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layer);
        return layer == 0 ? Embeddings : "hidden." + layer.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The attention probabilities of encoder layer <paramref name="layer"/> (1-based), <c>[batch, heads, queries, keys]</c>,
    /// softmax over keys before attention dropout; padded keys have probability 0.
    /// </summary>
    /// <param name="layer">1 to the number of layers.</param>
    /// <returns>The feature name (<c>attention.3</c>).</returns>
    public static string Attention(int layer)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layer, 1);
        return "attention." + layer.ToString(CultureInfo.InvariantCulture);
    }
}
