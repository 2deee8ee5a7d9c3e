using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers;

/// <summary>
/// Multi-head scaled dot-product self-attention with an additive padding mask (Hugging Face's <c>BertSelfAttention</c>
/// names: <c>query</c>, <c>key</c>, <c>value</c>). Returns the context and the attention probabilities before dropout.
/// </summary>
public sealed class BertSelfAttention : nn.Module<Tensor, Tensor, (Tensor Context, Tensor Probabilities)>
{
    private readonly nn.Module<Tensor, Tensor> query;
    private readonly nn.Module<Tensor, Tensor> key;
    private readonly nn.Module<Tensor, Tensor> value;
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly int heads;
    private readonly int headSize;

    /// <summary>Creates the attention of <paramref name="config"/>.</summary>
    /// <param name="config">The encoder's shape.</param>
    public BertSelfAttention(BertConfig config)
        : base(nameof(BertSelfAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        heads = config.NumAttentionHeads;
        headSize = config.HeadSize;
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        dropout = nn.Dropout(config.AttentionProbsDropoutProb);
        RegisterComponents();
    }

    /// <summary>Attends over <paramref name="hidden"/> <c>[batch, tokens, hidden]</c>.</summary>
    /// <param name="hidden">The layer input.</param>
    /// <param name="additiveMask"><c>[batch, 1, 1, tokens]</c>: 0 for real keys, a large negative number for padding.</param>
    /// <returns>The context <c>[batch, tokens, hidden]</c> and the probabilities <c>[batch, heads, tokens, tokens]</c>.</returns>
    public override (Tensor Context, Tensor Probabilities) forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        var batch = hidden.shape[0];
        var tokens = hidden.shape[1];
        var q = Split(query.call(hidden), batch, tokens);
        var k = Split(key.call(hidden), batch, tokens);
        var v = Split(value.call(hidden), batch, tokens);
        var scores = q.matmul(k.transpose(-1, -2)).div_(Math.Sqrt(headSize)).add_(additiveMask);
        var probabilities = scores.softmax(-1);
        var context = dropout.call(probabilities).matmul(v).transpose(1, 2).reshape(batch, tokens, heads * headSize);
        return (context.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope());
    }

    private Tensor Split(Tensor x, long batch, long tokens) => x.view(batch, tokens, heads, headSize).transpose(1, 2);
}
