using KnowledgeDistillation.Detection.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>
/// Turns the head's outputs into detections: per image, candidates with class probability above the threshold (best
/// <see cref="FcosDecoderOptions.PreNmsTopK"/>), score <c>sqrt(σ(cls) · σ(ctr))</c>, boxes = point ∓ distances clipped to
/// the valid image, class-wise NMS, then the best <see cref="FcosDecoderOptions.MaxDetections"/>.
/// </summary>
public sealed class FcosDecoder
{
    /// <summary>Creates the decoder.</summary>
    /// <param name="options">Options; <c>null</c> for the defaults.</param>
    public FcosDecoder(FcosDecoderOptions? options = null) => Options = options ?? new FcosDecoderOptions();

    /// <summary>The options.</summary>
    public FcosDecoderOptions Options { get; }

    /// <summary>Detections per image.</summary>
    /// <param name="cls">Class logits <c>[B, S, C]</c>.</param>
    /// <param name="box">Distances <c>[B, S, 4]</c>.</param>
    /// <param name="ctr">Centerness logits <c>[B, S]</c>.</param>
    /// <param name="points">Points <c>[S, 2]</c>.</param>
    /// <param name="imageSizes">Valid (height, width) per image <c>[B, 2]</c>.</param>
    /// <exception cref="ArgumentException">The shapes disagree.</exception>
    public IReadOnlyList<IReadOnlyList<DetectedObject>> Decode(Tensor cls, Tensor box, Tensor ctr, Tensor points, Tensor imageSizes)
    {
        ArgumentNullException.ThrowIfNull(cls);
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(imageSizes);
        if (cls.dim() != 3 || box.dim() != 3 || box.shape[2] != 4 || ctr.dim() != 2 || points.shape[0] != cls.shape[1] || box.shape[1] != cls.shape[1] || ctr.shape[1] != cls.shape[1] || imageSizes.shape[0] != cls.shape[0])
        {
            throw new ArgumentException($"Need cls [B, S, C], box [B, S, 4], ctr [B, S], points [S, 2], image sizes [B, 2]; got {Guard.Shape(cls)}, {Guard.Shape(box)}, {Guard.Shape(ctr)}, {Guard.Shape(points)}, {Guard.Shape(imageSizes)}.", nameof(cls));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var classes = (int)cls.shape[2];
        var prob = cls.sigmoid();
        var scores = (prob * ctr.sigmoid().unsqueeze(-1)).sqrt();
        var sizes = imageSizes.cpu().to_type(ScalarType.Float64).data<double>().ToArray();
        var result = new List<IReadOnlyList<DetectedObject>>();
        for (var i = 0; i < cls.shape[0]; i++)
        {
            var candidate = (prob[i] > Options.ScoreThreshold).reshape(-1);
            var flat = scores[i].reshape(-1);
            var index = candidate.nonzero().squeeze(1);
            var chosen = flat.index_select(0, index);
            if (index.shape[0] > Options.PreNmsTopK)
            {
                var (top, at) = chosen.topk(Options.PreNmsTopK);
                (chosen, index) = (top, index.index_select(0, at));
            }

            var location = index.div(classes, rounding_mode: RoundingMode.floor);
            var label = index.remainder(classes);
            var p = points.index_select(0, location);
            var d = box[i].index_select(0, location);
            var boxes = stack(new[] { p[.., 0] - d[.., 0], p[.., 1] - d[.., 1], p[.., 0] + d[.., 2], p[.., 1] + d[.., 3] }, 1).cpu().to_type(ScalarType.Float64).data<double>().ToArray();
            var s = chosen.cpu().to_type(ScalarType.Float64).data<double>().ToArray();
            var c = label.cpu().data<long>().ToArray();
            var (h, w) = (sizes[2 * i], sizes[(2 * i) + 1]);
            var candidates = new List<DetectedObject>(s.Length);
            for (var k = 0; k < s.Length; k++)
            {
                var b = new BoundingBox(boxes[4 * k], boxes[(4 * k) + 1], boxes[(4 * k) + 2], boxes[(4 * k) + 3]).Clip(w, h);
                candidates.Add(new DetectedObject((int)c[k], b, s[k]));
            }

            var kept = NonMaximumSuppression.Keep(candidates, Options.NmsThreshold).Take(Options.MaxDetections).Select(k => candidates[k]).ToArray();
            result.Add(kept);
        }

        return result;
    }
}
