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
    private readonly BertSelfAttention selfAttention;
    private readonly BertSubLayerOutput attentionOutput;
    private readonly nn.Module<Tensor, Tensor> intermediateDense;
    private readonly BertSubLayerOutput output;
    private readonly BertActivation activation;
    private readonly LayerNormPosition position;

    /// <summary>Creates a layer of <paramref name="config"/>.</summary>
    /// <param name="config">The encoder's shape.</param>
    public BertLayer(BertConfig config)
        : base(nameof(BertLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        activation = config.HiddenAct;
        position = config.LayerNormPosition;
        selfAttention = new BertSelfAttention(config);
        attentionOutput = new BertSubLayerOutput(config.HiddenSize, config.HiddenSize, config);
        intermediateDense = nn.Linear(config.HiddenSize, config.IntermediateSize);
        output = new BertSubLayerOutput(config.IntermediateSize, config.HiddenSize, config);
        var attention = nn.ModuleDict<nn.Module>(("self", selfAttention), ("output", attentionOutput));
        var intermediate = nn.ModuleDict<nn.Module>(("dense", intermediateDense));
        register_module("attention", attention);
        register_module("intermediate", intermediate);
        register_module("output", output);
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
            (var context, probabilities) = selfAttention.call(hidden, additiveMask);
            var attended = attentionOutput.Residual(context, hidden);
            result = output.Residual(Activate(intermediateDense.call(attended)), attended);
        }
        else
        {
            (var context, probabilities) = selfAttention.call(attentionOutput.Normalise(hidden), additiveMask);
            var attended = attentionOutput.PreNormResidual(context, hidden);
            result = output.PreNormResidual(Activate(intermediateDense.call(output.Normalise(attended))), attended);
        }

        return (result.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope());
    }

    private Tensor Activate(Tensor x) => activation switch
    {
        BertActivation.Gelu => nn.functional.gelu(x),
        BertActivation.GeluTanh => 0.5 * x * (1.0 + (Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh()),
        _ => nn.functional.relu(x),
    };
}
