using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers;

/// <summary>Token + position + segment embeddings, then LayerNorm and dropout (Hugging Face's <c>BertEmbeddings</c> names).</summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> word_embeddings;
    private readonly nn.Module<Tensor, Tensor> position_embeddings;
    private readonly nn.Module<Tensor, Tensor> token_type_embeddings;
    private readonly nn.Module<Tensor, Tensor> LayerNorm;
    private readonly nn.Module<Tensor, Tensor> dropout;

    /// <summary>Creates the embeddings of <paramref name="config"/>.</summary>
    /// <param name="config">The encoder's shape.</param>
    public BertEmbeddings(BertConfig config)
        : base(nameof(BertEmbeddings))
    {
        ArgumentNullException.ThrowIfNull(config);
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(new long[] { config.HiddenSize }, config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>Embeds token ids and segment ids, both <c>[batch, tokens]</c> int64, positions 0..tokens-1.</summary>
    /// <param name="inputIds">Token ids.</param>
    /// <param name="tokenTypeIds">Segment ids.</param>
    /// <returns><c>[batch, tokens, hidden]</c>.</returns>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        using var positions = arange(inputIds.shape[1], ScalarType.Int64, inputIds.device);
        var sum = word_embeddings.call(inputIds) + position_embeddings.call(positions).unsqueeze(0) + token_type_embeddings.call(tokenTypeIds);
        return dropout.call(LayerNorm.call(sum)).MoveToOuterDisposeScope();
    }
}
