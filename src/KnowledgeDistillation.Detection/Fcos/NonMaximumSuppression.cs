using KnowledgeDistillation.Detection.Data;

namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>
/// Greedy non-maximum suppression: boxes in descending score order (ties: the earlier index first), each kept unless it
/// overlaps a kept box of the same class with IoU strictly above the threshold (TorchVision's <c>batched_nms</c> rule).
/// Runs on the host over at most the decoder's pre-NMS candidates.
/// </summary>
public static class NonMaximumSuppression
{
    /// <summary>The indices of the kept detections, best first.</summary>
    /// <param name="detections">Candidates.</param>
    /// <param name="iouThreshold">Suppression threshold in [0, 1].</param>
    /// <param name="classAware">Whether only boxes of one class suppress each other (default true).</param>
    /// <exception cref="ArgumentOutOfRangeException">The threshold is outside [0, 1].</exception>
    public static IReadOnlyList<int> Keep(IReadOnlyList<DetectedObject> detections, double iouThreshold, bool classAware = true)
    {
        ArgumentNullException.ThrowIfNull(detections);
        if (!(iouThreshold >= 0 && iouThreshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(iouThreshold), iouThreshold, "The IoU threshold must be in [0, 1].");
        }

        var order = Enumerable.Range(0, detections.Count).OrderByDescending(i => detections[i].Score).ThenBy(i => i).ToArray();
        var kept = new List<int>();
        foreach (var i in order)
        {
            var d = detections[i];
            var suppressed = false;
            foreach (var k in kept)
            {
                if ((!classAware || detections[k].ClassIndex == d.ClassIndex) && detections[k].Box.IoU(d.Box) > iouThreshold)
                {
                    suppressed = true;
                    break;
                }
            }

            if (!suppressed)
            {
                kept.Add(i);
            }
        }

        return kept;
    }
}
