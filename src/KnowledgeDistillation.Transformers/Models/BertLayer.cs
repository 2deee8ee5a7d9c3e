using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers;

/// <summary>
/// One encoder layer: self-attention and a feed-forward block, each with a residual connection and LayerNorm (post-LN
/// as BERT, or pre-LN). Sub-module names follow Hugging Face's <c>BertLayer</c>: <c>attention.self.{query,key,value}</c>,
/// <c>attention.output.{dense,LayerNorm}</c>, <c>intermediate.dense</c>, <c>output.{dense,LayerNorm}</c>.
/// </summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor, (Tensor Hidden, Tensor Probabilities)>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertSubLayerOutput output;
    private readonly LayerNormPosition position;

    /// <summary>Creates a layer of <paramref name="config"/>.</summary>
    /// <param name="config">The encoder's shape.</param>
    public BertLayer(BertConfig config)
        : base(nameof(BertLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        position = config.LayerNormPosition;
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertSubLayerOutput(config.IntermediateSize, config.HiddenSize, config);
        RegisterComponents();
    }

    /// <summary>Runs the layer.</summary>
    /// <param name="hidden"><c>[batch, tokens, hidden]</c>.</param>
    /// <param name="additiveMask"><c>[batch, 1, 1, tokens]</c>.</param>
    /// <returns>The layer output and its attention probabilities (before dropout).</returns>
    public override (Tensor Hidden, Tensor Probabilities) forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        Tensor result;
        Tensor probabilities;
        if (position == LayerNormPosition.Post)
        {
            (var context, probabilities) = attention.SelfAttention.call(hidden, additiveMask);
            var attended = attention.Output.Residual(context, hidden);
            result = output.Residual(intermediate.call(attended), attended);
        }
        else
        {
            (var context, probabilities) = attention.SelfAttention.call(attention.Output.Normalise(hidden), additiveMask);
            var attended = attention.Output.PreNormResidual(context, hidden);
            result = output.PreNormResidual(intermediate.call(output.Normalise(attended)), attended);
        }

        return (result.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope());
    }
}

/// <summary>Self-attention and its output block (Hugging Face's <c>BertAttention</c>: <c>self</c>, <c>output</c>).</summary>
public sealed class BertAttention : nn.Module
{
    private readonly BertSelfAttention self;
    private readonly BertSubLayerOutput output;

    /// <summary>Creates the block of <paramref name="config"/>.</summary>
    /// <param name="config">The encoder's shape.</param>
    public BertAttention(BertConfig config)
        : base(nameof(BertAttention))
    {
        ArgumentNullException.ThrowIfNull(config);
        self = new BertSelfAttention(config);
        output = new BertSubLayerOutput(config.HiddenSize, config.HiddenSize, config);
        RegisterComponents();
    }

    /// <summary>The multi-head self-attention.</summary>
    public BertSelfAttention SelfAttention => self;

    /// <summary>The projection, residual and LayerNorm after it.</summary>
    public BertSubLayerOutput Output => output;
}

/// <summary>The first feed-forward projection and its activation (Hugging Face's <c>BertIntermediate</c>: <c>dense</c>).</summary>
public sealed class BertIntermediate : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> dense;
    private readonly BertActivation activation;

    /// <summary>Creates the block of <paramref name="config"/>.</summary>
    /// <param name="config">The encoder's shape.</param>
    public BertIntermediate(BertConfig config)
        : base(nameof(BertIntermediate))
    {
        ArgumentNullException.ThrowIfNull(config);
        activation = config.HiddenAct;
        dense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        RegisterComponents();
    }

    /// <summary>Projects and activates.</summary>
    /// <param name="input"><c>[..., hidden]</c>.</param>
    /// <returns><c>[..., intermediate]</c>.</returns>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = dense.call(input);
        var y = activation switch
        {
            BertActivation.Gelu => nn.functional.gelu(x),
            BertActivation.GeluTanh => 0.5 * x * (1.0 + (Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh()),
            _ => nn.functional.relu(x),
        };
        return y.MoveToOuterDisposeScope();
    }
}
