namespace KnowledgeDistillation.Transformers;

/// <summary>The feed-forward activation of an encoder layer (Hugging Face's <c>hidden_act</c>).</summary>
public enum BertActivation
{
    /// <summary>Exact GELU, <c>x * Phi(x)</c> (Hugging Face <c>"gelu"</c>).</summary>
    Gelu,

    /// <summary>The tanh approximation of GELU (Hugging Face <c>"gelu_new"</c>, <c>"gelu_pytorch_tanh"</c>).</summary>
    GeluTanh,

    /// <summary>ReLU (Hugging Face <c>"relu"</c>).</summary>
    Relu,
}
