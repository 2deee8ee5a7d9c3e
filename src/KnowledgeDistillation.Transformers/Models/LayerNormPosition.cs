namespace KnowledgeDistillation.Transformers;

/// <summary>Where an encoder layer normalises: after each residual sum (BERT) or before each sub-layer (pre-LN).</summary>
public enum LayerNormPosition
{
    /// <summary>Post-LN, as in BERT: <c>LayerNorm(x + Sublayer(x))</c>.</summary>
    Post,

    /// <summary>Pre-LN: <c>x + Sublayer(LayerNorm(x))</c>, with one final LayerNorm after the last layer.</summary>
    Pre,
}
