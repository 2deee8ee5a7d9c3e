using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers;

/// <summary>
/// The encoder body of <see cref="BertForSequenceClassification"/> (Hugging Face's <c>BertModel</c>): <c>embeddings</c>,
/// <c>encoder.layer.{i}</c> (plus <c>encoder.final_layer_norm</c> under pre-LN) and <c>pooler.dense</c>.
/// </summary>
public sealed class BertModel : nn.Module
{
    private readonly BertEmbeddings embeddings;
    private readonly BertEncoder encoder;
    private readonly BertPooler pooler;

    /// <summary>Creates the body of <paramref name="config"/>.</summary>
    /// <param name="config">The shape.</param>
    public BertModel(BertConfig config)
        : base(nameof(BertModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        embeddings = new BertEmbeddings(config);
        encoder = new BertEncoder(config);
        pooler = new BertPooler(config);
        RegisterComponents();
    }

    /// <summary>The embeddings.</summary>
    public BertEmbeddings Embeddings => embeddings;

    /// <summary>The layers.</summary>
    public BertEncoder Encoder => encoder;

    /// <summary>The pooler.</summary>
    public BertPooler Pooler => pooler;
}

/// <summary>The stack of encoder layers (<c>layer.{i}</c>), with a final LayerNorm (<c>final_layer_norm</c>) under pre-LN.</summary>
public sealed class BertEncoder : nn.Module
{
    private readonly ModuleList<BertLayer> layer;
    private readonly nn.Module<Tensor, Tensor>? final_layer_norm;

    /// <summary>Creates the layers of <paramref name="config"/>.</summary>
    /// <param name="config">The shape.</param>
    public BertEncoder(BertConfig config)
        : base(nameof(BertEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        layer = nn.ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        if (config.LayerNormPosition == LayerNormPosition.Pre)
        {
            final_layer_norm = nn.LayerNorm(new long[] { config.HiddenSize }, config.LayerNormEps);
        }

        RegisterComponents();
    }

    /// <summary>The layers, bottom first.</summary>
    public IList<BertLayer> Layers => layer;

    /// <summary>The final LayerNorm of a pre-LN encoder, or null.</summary>
    public nn.Module<Tensor, Tensor>? FinalNorm => final_layer_norm;
}

/// <summary><c>tanh(dense(h_[CLS]))</c> (Hugging Face's <c>BertPooler</c>: <c>dense</c>).</summary>
public sealed class BertPooler : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> dense;

    /// <summary>Creates the pooler of <paramref name="config"/>.</summary>
    /// <param name="config">The shape.</param>
    public BertPooler(BertConfig config)
        : base(nameof(BertPooler))
    {
        ArgumentNullException.ThrowIfNull(config);
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>Pools the [CLS] (first) token.</summary>
    /// <param name="hidden"><c>[batch, tokens, hidden]</c>.</param>
    /// <returns><c>[batch, hidden]</c>.</returns>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dense.call(hidden.select(1, 0)).tanh().MoveToOuterDisposeScope();
    }
}
