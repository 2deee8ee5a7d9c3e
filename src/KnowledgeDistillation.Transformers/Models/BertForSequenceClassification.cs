using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers;

/// <summary>
/// A BERT-style encoder with a pooler and a classification head, laid out and named as Hugging Face's
/// <c>BertForSequenceClassification</c> (<c>bert.embeddings.*</c>, <c>bert.encoder.layer.{i}.*</c>,
/// <c>bert.pooler.dense</c>, <c>classifier</c>), so a Hugging Face checkpoint loads by name
/// (<see cref="HuggingFaceBert"/>).
/// </summary>
/// <remarks>
/// <see cref="forward(Tensor)"/> takes token ids <c>[batch, tokens]</c> (int64), masks the positions holding
/// <see cref="BertConfig.PadTokenId"/> and uses segment 0; <see cref="Forward(Tensor, Tensor?, Tensor?)"/> takes segment ids
/// and an explicit mask. The output's logits are <c>[batch, labels]</c>; its features are the embedding output, every
/// layer's output and attention probabilities (before dropout), the pooled [CLS] state and the padding mask, under the
/// names in <see cref="BertFeatures"/>, so any loss can declare and read them.
/// </remarks>
public sealed class BertForSequenceClassification : nn.Module<Tensor, ModelOutput>
{
    private readonly BertModel bert;
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly nn.Module<Tensor, Tensor> classifier;

    /// <summary>Creates a randomly initialised model (BERT's initialisation: normal(0, 0.02) weights, zero biases, unit LayerNorm).</summary>
    /// <param name="config">The shape.</param>
    /// <exception cref="ArgumentException">A setting of <paramref name="config"/> is out of range.</exception>
    public BertForSequenceClassification(BertConfig config)
        : base(nameof(BertForSequenceClassification))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        bert = new BertModel(config);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        classifier = nn.Linear(config.HiddenSize, config.NumLabels);
        RegisterComponents();
        Initialise();
    }

    /// <summary>The shape.</summary>
    public BertConfig Config { get; }

    /// <summary>The encoder body (embeddings, layers, pooler).</summary>
    public BertModel Bert => bert;

    /// <summary>Number of parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Runs the model on token ids <c>[batch, tokens]</c>, masking <see cref="BertConfig.PadTokenId"/> positions, segment 0 everywhere.</summary>
    /// <param name="inputIds">Token ids (int64).</param>
    /// <returns>Logits and features.</returns>
    public override ModelOutput forward(Tensor inputIds) => Forward(inputIds, null, null);

    /// <summary>Runs the model.</summary>
    /// <param name="inputIds">Token ids <c>[batch, tokens]</c> (int64), each in [0, vocab).</param>
    /// <param name="tokenTypeIds">Segment ids of the same shape (int64), or null for segment 0.</param>
    /// <param name="attentionMask">1 for real tokens and 0 for padding, same shape (any numeric type), or null to mask <see cref="BertConfig.PadTokenId"/>.</param>
    /// <returns>Logits <c>[batch, labels]</c> and the features named in <see cref="BertFeatures"/>.</returns>
    /// <exception cref="ArgumentException">A tensor has the wrong rank, type, shape or device, or the sequence is longer than the position embedding.</exception>
    public ModelOutput Forward(Tensor inputIds, Tensor? tokenTypeIds, Tensor? attentionMask)
    {
        CheckInputs(inputIds, tokenTypeIds, attentionMask);
        using var scope = NewDisposeScope();
        var mask = attentionMask is null ? inputIds.ne(Config.PadTokenId).to(ScalarType.Float32) : attentionMask.to(ScalarType.Float32);
        var types = tokenTypeIds ?? zeros_like(inputIds);
        var hidden = bert.Embeddings.call(inputIds, types);
        var additive = ((1.0f - mask) * float.MinValue).to(hidden.dtype).view(mask.shape[0], 1, 1, mask.shape[1]);
        var features = new Dictionary<string, Tensor>
        {
            [BertFeatures.Embeddings] = hidden,
            [BertFeatures.AttentionMask] = mask,
        };
        var layers = bert.Encoder.Layers;
        var finalNorm = bert.Encoder.FinalNorm;
        for (var i = 0; i < layers.Count; i++)
        {
            var (next, probabilities) = layers[i].call(hidden, additive);
            hidden = i == layers.Count - 1 && finalNorm is not null ? finalNorm.call(next) : next;
            features[BertFeatures.Hidden(i + 1)] = hidden;
            features[BertFeatures.Attention(i + 1)] = probabilities;
        }

        var pooled = bert.Pooler.call(hidden);
        features[BertFeatures.Pooled] = pooled;
        var logits = classifier.call(dropout.call(pooled));
        logits.MoveToOuterDisposeScope();
        foreach (var feature in features.Values)
        {
            feature.MoveToOuterDisposeScope();
        }

        return new ModelOutput(logits, features);
    }

    private void CheckInputs(Tensor inputIds, Tensor? tokenTypeIds, Tensor? attentionMask)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        Guard.Rank(inputIds, 2, nameof(inputIds), "[batch, tokens]");
        if (inputIds.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"{nameof(inputIds)} must be int64 token ids; got {inputIds.dtype}.", nameof(inputIds));
        }

        if (inputIds.shape[1] < 1 || inputIds.shape[1] > Config.MaxPositionEmbeddings)
        {
            throw new ArgumentException(
                $"{nameof(inputIds)} has {inputIds.shape[1]} tokens per row; the model takes 1 to {Config.MaxPositionEmbeddings} (MaxPositionEmbeddings).",
                nameof(inputIds));
        }

        if (tokenTypeIds is not null)
        {
            Guard.SameShape(tokenTypeIds, nameof(tokenTypeIds), inputIds, nameof(inputIds));
            Guard.SameDevice(tokenTypeIds, nameof(tokenTypeIds), inputIds, nameof(inputIds));
            if (tokenTypeIds.dtype != ScalarType.Int64)
            {
                throw new ArgumentException($"{nameof(tokenTypeIds)} must be int64 segment ids; got {tokenTypeIds.dtype}.", nameof(tokenTypeIds));
            }
        }

        if (attentionMask is not null)
        {
            Guard.SameShape(attentionMask, nameof(attentionMask), inputIds, nameof(inputIds));
            Guard.SameDevice(attentionMask, nameof(attentionMask), inputIds, nameof(inputIds));
        }

        if (inputIds.device_type == DeviceType.CPU && inputIds.numel() > 0)
        {
            var min = inputIds.min().item<long>();
            var max = inputIds.max().item<long>();
            if (min < 0 || max >= Config.VocabSize)
            {
                throw new ArgumentException(
                    $"{nameof(inputIds)} holds ids in [{min}, {max}]; the vocabulary has {Config.VocabSize} ids (0 to {Config.VocabSize - 1}).",
                    nameof(inputIds));
            }
        }
    }

    private void Initialise()
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (name.Contains("LayerNorm", StringComparison.Ordinal) || name.Contains("final_layer_norm", StringComparison.Ordinal))
            {
                if (name.EndsWith(".weight", StringComparison.Ordinal))
                {
                    parameter.fill_(1.0);
                }
                else
                {
                    parameter.zero_();
                }
            }
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                parameter.zero_();
            }
            else
            {
                parameter.normal_(0.0, 0.02);
            }
        }
    }
}
