using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Transformers;

/// <summary>
/// The projection, dropout, residual sum and LayerNorm closing a sub-layer (Hugging Face's <c>BertSelfOutput</c> /
/// <c>BertOutput</c>: <c>dense</c>, <c>LayerNorm</c>). Under pre-LN the LayerNorm normalises the sub-layer's input instead.
/// </summary>
public sealed class BertSubLayerOutput : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> dense;
    private readonly nn.Module<Tensor, Tensor> LayerNorm;
    private readonly nn.Module<Tensor, Tensor> dropout;

    /// <summary>Creates the output block.</summary>
    /// <param name="inputSize">Width of the sub-layer's output.</param>
    /// <param name="hiddenSize">Width of the residual stream.</param>
    /// <param name="config">The encoder's shape (epsilon, dropout).</param>
    public BertSubLayerOutput(int inputSize, int hiddenSize, BertConfig config)
        : base(nameof(BertSubLayerOutput))
    {
        ArgumentNullException.ThrowIfNull(config);
        dense = nn.Linear(inputSize, hiddenSize);
        LayerNorm = nn.LayerNorm(new long[] { hiddenSize }, config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>Post-LN: <c>LayerNorm(residual + dropout(dense(x)))</c>.</summary>
    /// <param name="x">The sub-layer's output.</param>
    /// <param name="residual">The sub-layer's input.</param>
    /// <returns>The block's output.</returns>
    public override Tensor forward(Tensor x, Tensor residual) => Residual(x, residual);

    /// <summary>Post-LN: <c>LayerNorm(residual + dropout(dense(x)))</c>.</summary>
    /// <param name="x">The sub-layer's output.</param>
    /// <param name="residual">The sub-layer's input.</param>
    /// <returns>The block's output.</returns>
    public Tensor Residual(Tensor x, Tensor residual) => LayerNorm.call(dropout.call(dense.call(x)) + residual);

    /// <summary>Pre-LN: <c>residual + dropout(dense(x))</c>.</summary>
    /// <param name="x">The sub-layer's output.</param>
    /// <param name="residual">The sub-layer's input.</param>
    /// <returns>The block's output.</returns>
    public Tensor PreNormResidual(Tensor x, Tensor residual) => dropout.call(dense.call(x)) + residual;

    /// <summary>Pre-LN: the LayerNorm applied to the sub-layer's input.</summary>
    /// <param name="x">The residual stream.</param>
    /// <returns>The normalised input.</returns>
    public Tensor Normalise(Tensor x) => LayerNorm.call(x);
}
