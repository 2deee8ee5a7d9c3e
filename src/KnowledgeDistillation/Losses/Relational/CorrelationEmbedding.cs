using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The embedding head of CC (Peng et al., "Correlation Congruence for Knowledge Distillation", ICCV 2019; RepDistiller
/// <c>models/util.py</c> <c>LinearEmbed</c>, torchdistill's linear layer for CCKD): flattens a feature [B, ...] to
/// [B, D_in], applies one linear layer to [B, D_out] and, when <see cref="Normalize"/>, L2-normalises each row
/// (<c>v / max(‖v‖₂, 1e-12)</c>; the Gaussian kernel's Taylor expansion assumes unit vectors). RepDistiller's
/// <c>LinearEmbed</c> does not normalise. State-dict names are <c>linear.weight</c> and <c>linear.bias</c>.
/// </summary>
public sealed class CorrelationEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> linear;

    /// <summary>Creates the head with freshly initialised weights (TorchSharp's global random generator).</summary>
    /// <param name="inputDimension">D_in &gt;= 1, the flattened width of the feature it embeds (256 for the pooled feature of resnet8x4 and resnet32x4).</param>
    /// <param name="outputDimension">D_out &gt;= 1, the embedding width (RepDistiller: 128).</param>
    /// <param name="normalize">Whether each embedding is L2-normalised (true for the kernel forms; false is RepDistiller's <c>LinearEmbed</c>).</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1.</exception>
    public CorrelationEmbedding(long inputDimension, long outputDimension = 128, bool normalize = true, string name = "cc_embedding")
        : base(name)
    {
        InputDimension = inputDimension >= 1 ? inputDimension : throw new ArgumentOutOfRangeException(nameof(inputDimension), inputDimension, "The input dimension must be >= 1.");
        OutputDimension = outputDimension >= 1 ? outputDimension : throw new ArgumentOutOfRangeException(nameof(outputDimension), outputDimension, "The output dimension must be >= 1.");
        Normalize = normalize;
        linear = nn.Linear(inputDimension, outputDimension);
        RegisterComponents();
    }

    /// <summary>D_in, the flattened width of the embedded feature.</summary>
    public long InputDimension { get; }

    /// <summary>D_out, the embedding width.</summary>
    public long OutputDimension { get; }

    /// <summary>Whether each embedding is L2-normalised.</summary>
    public bool Normalize { get; }

    /// <summary>Checks that a feature [B, ...] flattens to [B, D_in] and matches the head's dtype and device, before native code sees it.</summary>
    /// <param name="feature">The feature.</param>
    /// <param name="what">Its description (the exception's parameter name).</param>
    /// <exception cref="ArgumentException">The feature is not [B, ...] with B &gt;= 1 or does not flatten to D_in values per sample.</exception>
    /// <exception cref="InvalidOperationException">The head's parameters have another dtype or device than the feature.</exception>
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
                $"The {what} {Guard.Shape(feature)} flattens to {width} values per sample, but its CC embedding takes {InputDimension}.", what);
        }

        var parameter = parameters().First();
        if (parameter.device_type != feature.device_type || parameter.device_index != feature.device_index || parameter.dtype != feature.dtype)
        {
            throw new InvalidOperationException(
                $"The CC embedding holds {parameter.dtype} parameters on {parameter.device}, but the {what} is {feature.dtype} on {feature.device}. " +
                "Move it with module.to(device, dtype) (the engine does this for the modules a stage's loss trains).");
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var v = linear.call(input.reshape(input.shape[0], -1));
        return Normalize ? nn.functional.normalize(v, p: 2, dim: 1, eps: 1e-12) : v;
    }
}
