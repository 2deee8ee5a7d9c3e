using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Fcos;

namespace KnowledgeDistillation.Detection.Evaluation;

/// <summary>
/// Mean average precision, two conventions. <b>VOC</b> (devkit 2010+): per class, detections by descending score; each is
/// matched to the ground-truth box of highest IoU in its image; IoU &gt;= 0.5 with an unmatched box is a hit, with an
/// already matched one a false positive, with a difficult one ignored; AP is the area under the precision envelope
/// (all points). Boxes use continuous coordinates (no devkit "+1"). <b>COCO</b> (pycocotools' rules, without area
/// ranges): per image and class, detections by descending score take the unmatched ground truth of highest IoU &gt;= t
/// (a non-difficult box before a difficult one; a match to a difficult box is ignored), precision envelope sampled at 101
/// recall points, averaged over t = 0.50:0.05:0.95. Classes without (non-difficult) ground truth are left out of both
/// means. Difficult boxes use plain IoU (COCO's crowd boxes use intersection over the detection's area instead).
/// </summary>
public static class MeanAveragePrecision
{
    /// <summary>Computes both conventions.</summary>
    /// <param name="detections">Per image, the detections.</param>
    /// <param name="groundTruth">Per image, the annotated objects (difficult ones flagged).</param>
    /// <param name="classes">The number of classes.</param>
    /// <exception cref="ArgumentException">The image counts differ, or a class index is outside 0..classes-1.</exception>
    public static MeanAveragePrecisionResult Compute(IReadOnlyList<IReadOnlyList<DetectedObject>> detections, IReadOnlyList<IReadOnlyList<DetectionObject>> groundTruth, int classes)
    {
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (detections.Count != groundTruth.Count)
        {
            throw new ArgumentException($"Need detections for every image: {detections.Count} lists for {groundTruth.Count} images.", nameof(detections));
        }

        if (detections.SelectMany(d => d).Any(d => d.ClassIndex < 0 || d.ClassIndex >= classes) || groundTruth.SelectMany(g => g).Any(g => g.ClassIndex < 0 || g.ClassIndex >= classes))
        {
            throw new ArgumentException($"Class indices must be in 0..{classes - 1}.", nameof(classes));
        }

        var voc = Enumerable.Range(0, classes).Select(c => VocAp(detections, groundTruth, c, 0.5)).ToArray();
        var thresholds = Enumerable.Range(0, 10).Select(i => 0.5 + (0.05 * i)).ToArray();
        var coco = thresholds.Select(t => Enumerable.Range(0, classes).Select(c => CocoAp(detections, groundTruth, c, t)).ToArray()).ToArray();
        static double Mean(IEnumerable<double> values)
        {
            var finite = values.Where(double.IsFinite).ToArray();
            return finite.Length == 0 ? double.NaN : finite.Average();
        }

        return new MeanAveragePrecisionResult(Mean(voc), Mean(coco.SelectMany(a => a)), Mean(coco[0]), Mean(coco[5]), voc);
    }

    /// <summary>VOC AP of one class at one IoU threshold (NaN without non-difficult ground truth).</summary>
    /// <param name="detections">Per image, the detections.</param>
    /// <param name="groundTruth">Per image, the objects.</param>
    /// <param name="classIndex">The class.</param>
    /// <param name="iouThreshold">The IoU a hit needs.</param>
    public static double VocAp(IReadOnlyList<IReadOnlyList<DetectedObject>> detections, IReadOnlyList<IReadOnlyList<DetectionObject>> groundTruth, int classIndex, double iouThreshold)
    {
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(groundTruth);
        var gts = groundTruth.Select(g => g.Where(o => o.ClassIndex == classIndex).ToArray()).ToArray();
        var positives = gts.Sum(g => g.Count(o => !o.Difficult));
        if (positives == 0)
        {
            return double.NaN;
        }

        var dets = detections.SelectMany((d, image) => d.Where(x => x.ClassIndex == classIndex).Select(x => (Image: image, Det: x)))
            .Select((x, i) => (x.Image, x.Det, Order: i)).OrderByDescending(x => x.Det.Score).ThenBy(x => x.Order).ToArray();
        var matched = gts.Select(g => new bool[g.Length]).ToArray();
        var tp = new List<double>();
        var fp = new List<double>();
        foreach (var (image, det, _) in dets)
        {
            var (best, at) = (-1.0, -1);
            for (var j = 0; j < gts[image].Length; j++)
            {
                var iou = gts[image][j].Box.IoU(det.Box);
                if (iou > best)
                {
                    (best, at) = (iou, j);
                }
            }

            if (at >= 0 && best >= iouThreshold)
            {
                if (gts[image][at].Difficult)
                {
                    continue;
                }

                var hit = !matched[image][at];
                matched[image][at] = true;
                tp.Add(hit ? 1 : 0);
                fp.Add(hit ? 0 : 1);
            }
            else
            {
                tp.Add(0);
                fp.Add(1);
            }
        }

        return AreaUnderEnvelope(tp, fp, positives);
    }

    /// <summary>COCO-style AP of one class at one IoU threshold (NaN without non-difficult ground truth).</summary>
    /// <param name="detections">Per image, the detections.</param>
    /// <param name="groundTruth">Per image, the objects.</param>
    /// <param name="classIndex">The class.</param>
    /// <param name="iouThreshold">The IoU a hit needs.</param>
    public static double CocoAp(IReadOnlyList<IReadOnlyList<DetectedObject>> detections, IReadOnlyList<IReadOnlyList<DetectionObject>> groundTruth, int classIndex, double iouThreshold)
    {
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(groundTruth);
        var scored = new List<(double Score, int Tp, int Fp, int Order)>();
        var positives = 0;
        var order = 0;
        for (var image = 0; image < detections.Count; image++)
        {
            // Non-difficult boxes first (pycocotools sorts ignored ground truth last).
            var gts = groundTruth[image].Where(o => o.ClassIndex == classIndex).OrderBy(o => o.Difficult).ToArray();
            positives += gts.Count(o => !o.Difficult);
            var dets = detections[image].Where(d => d.ClassIndex == classIndex).Select((d, i) => (d, i)).OrderByDescending(x => x.d.Score).ThenBy(x => x.i).Select(x => x.d).ToArray();
            var taken = new bool[gts.Length];
            foreach (var det in dets)
            {
                var threshold = Math.Min(iouThreshold, 1 - 1e-10);
                var at = -1;
                for (var j = 0; j < gts.Length; j++)
                {
                    if (taken[j])
                    {
                        continue;
                    }

                    // Once matched to a real box, stop at the first ignored one (pycocotools' break).
                    if (at > -1 && !gts[at].Difficult && gts[j].Difficult)
                    {
                        break;
                    }

                    var iou = gts[j].Box.IoU(det.Box);
                    if (iou < threshold)
                    {
                        continue;
                    }

                    (threshold, at) = (iou, j);
                }

                if (at >= 0)
                {
                    taken[at] = true;
                    if (gts[at].Difficult)
                    {
                        continue;
                    }

                    scored.Add((det.Score, 1, 0, order++));
                }
                else
                {
                    scored.Add((det.Score, 0, 1, order++));
                }
            }
        }

        if (positives == 0)
        {
            return double.NaN;
        }

        var sorted = scored.OrderByDescending(s => s.Score).ThenBy(s => s.Order).ToArray();
        var (cumTp, cumFp) = (0.0, 0.0);
        var recall = new double[sorted.Length];
        var precision = new double[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            cumTp += sorted[i].Tp;
            cumFp += sorted[i].Fp;
            recall[i] = cumTp / positives;
            precision[i] = cumTp / (cumTp + cumFp + double.Epsilon);
        }

        for (var i = sorted.Length - 2; i >= 0; i--)
        {
            precision[i] = Math.Max(precision[i], precision[i + 1]);
        }

        var sum = 0.0;
        for (var r = 0; r <= 100; r++)
        {
            var level = r * (1.0 / 100);   // np.linspace(0, 1, 101) as pycocotools builds it: i * step, exactly
            var at = Array.FindIndex(recall, x => x >= level);
            sum += at >= 0 ? precision[at] : 0;
        }

        return sum / 101;
    }

    private static double AreaUnderEnvelope(List<double> tp, List<double> fp, int positives)
    {
        var n = tp.Count;
        var recall = new double[n + 2];
        var precision = new double[n + 2];
        var (cumTp, cumFp) = (0.0, 0.0);
        for (var i = 0; i < n; i++)
        {
            cumTp += tp[i];
            cumFp += fp[i];
            recall[i + 1] = cumTp / positives;
            precision[i + 1] = cumTp / Math.Max(cumTp + cumFp, double.Epsilon);
        }

        recall[n + 1] = 1;
        precision[n + 1] = 0;
        recall[0] = 0;
        precision[0] = 0;
        for (var i = n; i >= 0; i--)
        {
            precision[i] = Math.Max(precision[i], precision[i + 1]);
        }

        var ap = 0.0;
        for (var i = 1; i <= n + 1; i++)
        {
            if (recall[i] != recall[i - 1])
            {
                ap += (recall[i] - recall[i - 1]) * precision[i];
            }
        }

        return ap;
    }
}
