using KnowledgeDistillation.Detection.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>
/// FCOS's target assignment (Tian et al. 2019, with AdelaiDet's centre sampling): a point is a candidate for a box when it
/// lies inside the box and inside the box's centre region (the centre ± <see cref="CenterSampleRadius"/> strides, cut
/// to the box), and the largest of its four distances falls in its level's size range; among candidates the box of
/// smallest area wins. Difficult and padding rows are ignored. Vectorised over the batch, points and boxes.
/// </summary>
public sealed class FcosAssigner
{
    /// <summary>Creates the assigner.</summary>
    /// <param name="classes">Object classes (the background label is this count).</param>
    /// <param name="sizeRanges">Per level, the (min, max] range of the largest regression distance; default FCOS's 0-64-128-256-512-∞.</param>
    /// <param name="centerSampleRadius">Centre region radius in strides; 0 turns centre sampling off (any point inside the box). Default 1.5.</param>
    /// <exception cref="ArgumentOutOfRangeException">Classes below 1 or a negative radius.</exception>
    public FcosAssigner(int classes, IReadOnlyList<(double Min, double Max)>? sizeRanges = null, double centerSampleRadius = 1.5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (!(centerSampleRadius >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(centerSampleRadius), centerSampleRadius, "centerSampleRadius must be >= 0.");
        }

        Classes = classes;
        SizeRanges = sizeRanges ?? new[] { (0.0, 64.0), (64.0, 128.0), (128.0, 256.0), (256.0, 512.0), (512.0, double.PositiveInfinity) };
        CenterSampleRadius = centerSampleRadius;
    }

    /// <summary>Object classes.</summary>
    public int Classes { get; }

    /// <summary>Per level, the range of the largest regression distance.</summary>
    public IReadOnlyList<(double Min, double Max)> SizeRanges { get; }

    /// <summary>Centre region radius in strides.</summary>
    public double CenterSampleRadius { get; }

    /// <summary>Assigns the boxes of <paramref name="targets"/> to the points.</summary>
    /// <param name="points">Points <c>[S, 2]</c> (x, y).</param>
    /// <param name="strides">Each point's stride <c>[S]</c>.</param>
    /// <param name="levels">Each point's level <c>[S]</c> (int64, indexes <see cref="SizeRanges"/>).</param>
    /// <param name="targets">Targets <c>[B, G, 6]</c> (<see cref="DetectionTargets"/>).</param>
    /// <exception cref="ArgumentException">Shapes disagree, or a level has no size range.</exception>
    public FcosAssignment Assign(Tensor points, Tensor strides, Tensor levels, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(targets);
        if (points.dim() != 2 || points.shape[1] != 2 || strides.shape[0] != points.shape[0] || levels.shape[0] != points.shape[0])
        {
            throw new ArgumentException($"points must be [S, 2] with strides and levels [S]; got {Guard.Shape(points)}, {Guard.Shape(strides)}, {Guard.Shape(levels)}.", nameof(points));
        }

        if (targets.dim() != 3 || targets.shape[2] != DetectionTargets.Columns)
        {
            throw new ArgumentException($"targets must be [B, G, {DetectionTargets.Columns}]; got {Guard.Shape(targets)}.", nameof(targets));
        }

        using var scope = NewDisposeScope();
        var device = points.device;
        var t = targets.to(ScalarType.Float32);
        var (x, y) = (points[.., 0].view(1, -1, 1), points[.., 1].view(1, -1, 1));
        var (x1, y1, x2, y2) = (t[.., .., 1].unsqueeze(1), t[.., .., 2].unsqueeze(1), t[.., .., 3].unsqueeze(1), t[.., .., 4].unsqueeze(1));
        var l = x - x1;
        var top = y - y1;
        var r = x2 - x;
        var b = y2 - y;
        var ltrb = stack(new[] { l, top, r, b }, -1);                          // [B, S, G, 4]
        var candidate = ltrb.amin(-1) > 0;
        if (CenterSampleRadius > 0)
        {
            var radius = (strides * CenterSampleRadius).view(1, -1, 1);
            var (cx, cy) = ((x1 + x2) / 2, (y1 + y2) / 2);
            var cl = x - maximum(x1, cx - radius);
            var ct = y - maximum(y1, cy - radius);
            var cr = minimum(x2, cx + radius) - x;
            var cb = minimum(y2, cy + radius) - y;
            candidate = candidate.logical_and(stack(new[] { cl, ct, cr, cb }, -1).amin(-1) > 0);
        }

        var ranges = tensor(SizeRanges.SelectMany(p => new[] { (float)p.Min, p.Max >= float.MaxValue ? float.PositiveInfinity : (float)p.Max }).ToArray(), new long[] { SizeRanges.Count, 2 }, device: device);
        if (SizeRanges.Count <= levels.max().item<long>())
        {
            throw new ArgumentException($"The points span more levels than the assigner's {SizeRanges.Count} size ranges.", nameof(levels));
        }

        var pointRange = ranges.index_select(0, levels);                      // [S, 2]
        var largest = ltrb.amax(-1);
        candidate = candidate.logical_and(largest >= pointRange[.., 0].view(1, -1, 1)).logical_and(largest <= pointRange[.., 1].view(1, -1, 1));
        var valid = (t[.., .., 0] >= 0).logical_and(t[.., .., 5] < 0.5).unsqueeze(1);
        candidate = candidate.logical_and(valid);
        var area = ((x2 - x1) * (y2 - y1)).expand(candidate.shape);
        var masked = where(candidate, area, full_like(area, float.PositiveInfinity));
        var (minArea, index) = masked.min(-1);                                 // [B, S]
        var positive = minArea.isfinite();
        var labels = t[.., .., 0].to(ScalarType.Int64).gather(1, index);
        labels = where(positive, labels, full_like(labels, Classes));
        var box = ltrb.gather(2, index.view(index.shape[0], index.shape[1], 1, 1).expand(-1, -1, 1, 4)).squeeze(2);
        box = where(positive.unsqueeze(-1), box, zeros_like(box));
        var lr = box[.., .., TensorIndex.Slice(0, null, 2)];
        var tb = box[.., .., TensorIndex.Slice(1, null, 2)];
        var ctr = ((lr.amin(-1) / lr.amax(-1).clamp_min(1e-12)) * (tb.amin(-1) / tb.amax(-1).clamp_min(1e-12))).sqrt();
        ctr = where(positive, ctr, zeros_like(ctr));
        var result = new FcosAssignment(labels, box, positive, ctr);
        scope.MoveToOuter(labels, box, positive, ctr);
        return result;
    }
}
