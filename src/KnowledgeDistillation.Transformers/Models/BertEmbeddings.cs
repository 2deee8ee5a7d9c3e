using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers;

/// <summary>Token + position + segment embeddings, then LayerNorm and dropout (Hugging Face's <c>BertEmbeddings</c> names).</summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> wordEmbeddings;
    private readonly nn.Module<Tensor, Tensor> positionEmbeddings;
    private readonly nn.Module<Tensor, Tensor> tokenTypeEmbeddings;
    private readonly nn.Module<Tensor, Tensor> norm;
    private readonly nn.Module<Tensor, Tensor> dropout;

    /// <summary>Creates the embeddings of <paramref name="config"/>.</summary>
    /// <param name="config">The encoder's shape.</param>
    public BertEmbeddings(BertConfig config)
        : base(nameof(BertEmbeddings))
    {
        ArgumentNullException.ThrowIfNull(config);
        wordEmbeddings = nn.Embedding(config.VocabSize, config.HiddenSize);
        positionEmbeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        tokenTypeEmbeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        norm = nn.LayerNorm(new long[] { config.HiddenSize }, config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        register_module("word_embeddings", wordEmbeddings);
        register_module("position_embeddings", positionEmbeddings);
        register_module("token_type_embeddings", tokenTypeEmbeddings);
        register_module("LayerNorm", norm);
        register_module("dropout", dropout);
    }

    /// <summary>Embeds token ids and segment ids, both <c>[batch, tokens]</c> int64, positions 0..tokens-1.</summary>
    /// <param name="inputIds">Token ids.</param>
    /// <param name="tokenTypeIds">Segment ids.</param>
    /// <returns><c>[batch, tokens, hidden]</c>.</returns>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var scope = NewDisposeScope();
        using var positions = arange(inputIds.shape[1], ScalarType.Int64, inputIds.device);
        var sum = wordEmbeddings.call(inputIds) + positionEmbeddings.call(positions).unsqueeze(0) + tokenTypeEmbeddings.call(tokenTypeIds);
        return dropout.call(norm.call(sum)).MoveToOuterDisposeScope();
    }
}
