using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>
/// Per-point box losses between predicted and target distances (left, top, right, bottom) from one point: both boxes
/// share the point, so intersection widths are sums of the smaller distances and the enclosing box's of the larger ones.
/// </summary>
public static class DistanceBoxLoss
{
    /// <summary>The loss of each row, <c>[N]</c>.</summary>
    /// <param name="predicted">Predicted distances <c>[N, 4]</c>, &gt;= 0.</param>
    /// <param name="target">Target distances <c>[N, 4]</c>, &gt; 0.</param>
    /// <param name="kind">GIoU (<c>1 − GIoU</c>) or IoU (<c>−log IoU</c>).</param>
    /// <exception cref="ArgumentException">The shapes are not both [N, 4].</exception>
    public static Tensor PerRow(Tensor predicted, Tensor target, BoxLossKind kind = BoxLossKind.GIoU)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(target);
        if (predicted.dim() != 2 || predicted.shape[1] != 4 || !predicted.shape.SequenceEqual(target.shape))
        {
            throw new ArgumentException($"Box distances must both be [N, 4]; got {Guard.Shape(predicted)} and {Guard.Shape(target)}.", nameof(predicted));
        }

        using var scope = NewDisposeScope();
        var (pl, pt, pr, pb) = (predicted[.., 0], predicted[.., 1], predicted[.., 2], predicted[.., 3]);
        var (tl, tt, tr, tb) = (target[.., 0], target[.., 1], target[.., 2], target[.., 3]);
        var predArea = (pl + pr) * (pt + pb);
        var targetArea = (tl + tr) * (tt + tb);
        var inter = (minimum(pl, tl) + minimum(pr, tr)) * (minimum(pt, tt) + minimum(pb, tb));
        var union = (predArea + targetArea - inter).clamp_min(1e-7);
        var iou = inter / union;
        Tensor loss;
        if (kind == BoxLossKind.IoU)
        {
            loss = -iou.clamp_min(1e-7).log();
        }
        else
        {
            var enclosing = ((maximum(pl, tl) + maximum(pr, tr)) * (maximum(pt, tt) + maximum(pb, tb))).clamp_min(1e-7);
            loss = 1 - (iou - ((enclosing - union) / enclosing));
        }

        return loss.MoveToOuterDisposeScope();
    }
}
