using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Data;

/// <summary>
/// The layout of a detection batch. <see cref="Batch.Targets"/> is float32 <c>[B, G, 6]</c>: per object
/// (class, x1, y1, x2, y2, difficult) in the resized image's pixels, rows padded with class −1 up to the largest object
/// count of the batch (G &gt;= 1). <see cref="Batch.Extras"/> holds <see cref="ImageSize"/> (float32 <c>[B, 2]</c>: the
/// valid height and width of each image inside the padded input) and <see cref="Scale"/> (float32 <c>[B]</c>: resized
/// size over original size).
/// </summary>
public static class DetectionTargets
{
    /// <summary>Columns per object row.</summary>
    public const int Columns = 6;

    /// <summary>The extra holding each image's valid (height, width).</summary>
    public const string ImageSize = "image-size";

    /// <summary>The extra holding each image's resize factor.</summary>
    public const string Scale = "scale";

    /// <summary>Checks that a batch has the detection layout and returns its targets.</summary>
    /// <param name="batch">The batch.</param>
    /// <param name="argument">The argument name for messages.</param>
    /// <exception cref="ArgumentException">The targets or the image-size extra are missing or have the wrong shape.</exception>
    public static Tensor Require(Batch batch, string argument = "batch")
    {
        ArgumentNullException.ThrowIfNull(batch);
        var targets = batch.Targets ?? throw new ArgumentException("A detection batch needs targets [B, G, 6] (class, x1, y1, x2, y2, difficult); this batch has none.", argument);
        if (targets.dim() != 3 || targets.shape[2] != Columns || targets.shape[0] != batch.Size)
        {
            throw new ArgumentException($"Detection targets must be [B={batch.Size}, G, {Columns}] (class, x1, y1, x2, y2, difficult); got {Guard.Shape(targets)}.", argument);
        }

        if (!batch.Extras.TryGetValue(ImageSize, out var size) || size.dim() != 2 || size.shape[0] != batch.Size || size.shape[1] != 2)
        {
            throw new ArgumentException($"A detection batch needs the extra '{ImageSize}' [B={batch.Size}, 2] (valid height, width of each image).", argument);
        }

        return targets;
    }

    /// <summary>Reads one image's objects from a targets tensor (host copy): class, box, difficult; padding rows skipped.</summary>
    /// <param name="targets">Targets <c>[B, G, 6]</c>.</param>
    public static IReadOnlyList<IReadOnlyList<DetectionObject>> ToObjects(Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        using var host = targets.detach().cpu().to_type(ScalarType.Float64);
        var values = host.data<double>().ToArray();
        var (b, g) = ((int)targets.shape[0], (int)targets.shape[1]);
        var result = new List<IReadOnlyList<DetectionObject>>(b);
        for (var i = 0; i < b; i++)
        {
            var objects = new List<DetectionObject>();
            for (var j = 0; j < g; j++)
            {
                var o = ((i * g) + j) * Columns;
                if (values[o] >= 0)
                {
                    objects.Add(new DetectionObject((int)values[o], new BoundingBox(values[o + 1], values[o + 2], values[o + 3], values[o + 4]), values[o + 5] > 0.5));
                }
            }

            result.Add(objects);
        }

        return result;
    }
}
