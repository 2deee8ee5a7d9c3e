using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The embedding head of CRD (Tian, Krishnan and Isola, "Contrastive Representation Distillation", ICLR 2020; RepDistiller
/// <c>crd/criterion.py</c>, mdistiller <c>distillers/CRD.py</c>, both <c>Embed</c>): flattens a feature [B, ...] to
/// [B, D_in], applies one linear layer to [B, D_out] and L2-normalises each row, <c>v = W x + b, v / ||v||₂</c> (no epsilon,
/// as the references). State-dict names are <c>linear.weight</c> and <c>linear.bias</c>.
/// </summary>
public sealed class CrdEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> linear;

    /// <summary>Creates the head with freshly initialised weights (TorchSharp's global random generator).</summary>
    /// <param name="inputDimension">D_in &gt;= 1, the flattened width of the feature it embeds.</param>
    /// <param name="outputDimension">D_out &gt;= 1, the embedding width (the references: 128).</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    public CrdEmbedding(long inputDimension, long outputDimension = 128, string name = "crd_embedding")
        : base(name)
    {
        InputDimension = inputDimension >= 1 ? inputDimension : throw new ArgumentOutOfRangeException(nameof(inputDimension), inputDimension, "The input dimension must be >= 1.");
        OutputDimension = outputDimension >= 1 ? outputDimension : throw new ArgumentOutOfRangeException(nameof(outputDimension), outputDimension, "The output dimension must be >= 1.");
        linear = nn.Linear(inputDimension, outputDimension);
        RegisterComponents();
    }

    /// <summary>D_in, the flattened width of the embedded feature.</summary>
    public long InputDimension { get; }

    /// <summary>D_out, the embedding width.</summary>
    public long OutputDimension { get; }

    /// <summary>Checks that a feature [B, ...] flattens to [B, D_in], before native code sees it.</summary>
    /// <param name="feature">The feature.</param>
    /// <param name="what">Its description (the exception's parameter name).</param>
    /// <exception cref="ArgumentException">The feature is not [B, ...] with B &gt;= 1 or does not flatten to D_in values per sample.</exception>
    public void CheckInput(Tensor feature, string what)
    {
        ArgumentNullException.ThrowIfNull(feature, what);
        if (feature.dim() < 2 || feature.shape[0] < 1)
        {
            throw new ArgumentException($"The {what} must be [batch, ...] with batch >= 1; got {Guard.Shape(feature)}.", what);
        }

        var width = feature.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        if (width != InputDimension)
        {
            throw new ArgumentException(
                $"The {what} {Guard.Shape(feature)} flattens to {width} values per sample, but its CRD embedding takes {InputDimension}.", what);
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var v = linear.call(input.reshape(input.shape[0], -1));
        return v / v.pow(2).sum(1, keepdim: true).sqrt();
    }
}
