using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// ICD's instance encoder: an instance descriptor <c>onehot(class, C) ‖ sine(reference point, D/2 per coordinate) ‖
/// onehot(scale bin of w, 5) ‖ onehot(scale bin of h, 5)</c>, scale bin = clamp(⌊1.44·ln(size in pixels) − 5⌋, 0, 4),
/// mapped by a 3-layer MLP (ReLU between) to a query in R^D.
/// </summary>
public sealed class InstanceEncoder : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly Sequential mlp;

    /// <summary>Creates the encoder.</summary>
    /// <param name="classes">Object classes C.</param>
    /// <param name="dimension">Query dimension D (even).</param>
    public InstanceEncoder(int classes, int dimension)
        : base(nameof(InstanceEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (dimension < 2 || dimension % 4 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The query dimension must be a positive multiple of 4.");
        }

        Classes = classes;
        Dimension = dimension;
        mlp = Sequential(("0", Linear(classes + dimension + 10, dimension)), ("1", ReLU()), ("2", Linear(dimension, dimension)), ("3", ReLU()), ("4", Linear(dimension, dimension)));
        RegisterComponents();
    }

    /// <summary>Object classes.</summary>
    public int Classes { get; }

    /// <summary>Query dimension.</summary>
    public int Dimension { get; }

    /// <summary>The descriptor before the MLP, <c>[..., C + D + 10]</c>.</summary>
    /// <param name="classes">Class indices, int64 <c>[...]</c>.</param>
    /// <param name="referencePoints">Reference points normalised by the image size, <c>[..., 2]</c>.</param>
    /// <param name="boxSizes">Box (width, height) in pixels, <c>[..., 2]</c>.</param>
    public Tensor Descriptor(Tensor classes, Tensor referencePoints, Tensor boxSizes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(referencePoints);
        ArgumentNullException.ThrowIfNull(boxSizes);
        if (!referencePoints.shape.SequenceEqual(boxSizes.shape) || !classes.shape.SequenceEqual(referencePoints.shape[..^1]))
        {
            throw new ArgumentException($"Need classes [...], reference points [..., 2] and box sizes [..., 2] over the same instances; got {Guard.Shape(classes)}, {Guard.Shape(referencePoints)}, {Guard.Shape(boxSizes)}.", nameof(classes));
        }

        using var scope = NewDisposeScope();
        var oneHot = functional.one_hot(classes.clamp(0, Classes - 1), Classes).to(referencePoints.dtype);
        var position = SineEmbedding.Encode(referencePoints, Dimension / 2);
        var bins = (1.44 * boxSizes.clamp_min(1e-6).log() - 5).floor().clamp(0, 4).to(ScalarType.Int64);
        var scale = functional.one_hot(bins, 5).to(referencePoints.dtype).flatten(-2);
        return cat(new[] { oneHot, position, scale }, -1).MoveToOuterDisposeScope();
    }

    /// <summary>Queries <c>[..., D]</c>.</summary>
    /// <param name="classes">Class indices, int64 <c>[...]</c>.</param>
    /// <param name="referencePoints">Reference points normalised by the image size, <c>[..., 2]</c>.</param>
    /// <param name="boxSizes">Box (width, height) in pixels, <c>[..., 2]</c>.</param>
    public override Tensor forward(Tensor classes, Tensor referencePoints, Tensor boxSizes)
    {
        using var scope = NewDisposeScope();
        return mlp.call(Descriptor(classes, referencePoints, boxSizes)).MoveToOuterDisposeScope();
    }
}
