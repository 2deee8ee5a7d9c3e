using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// One batch's instance queries, real instances first then fakes, padded to the largest count M: class <c>[B, M]</c>,
/// reference point normalised by the image <c>[B, M, 2]</c>, box size in pixels <c>[B, M, 2]</c>, the box (x1, y1, x2, y2)
/// normalised by the image <c>[B, M, 4]</c>, and masks <c>[B, M]</c> of valid and of real queries.
/// </summary>
/// <param name="Classes">Class per query.</param>
/// <param name="ReferencePoints">Reference points (x, y) / (W, H).</param>
/// <param name="BoxSizes">Box (w, h) in pixels.</param>
/// <param name="Boxes">Boxes normalised by (W, H, W, H).</param>
/// <param name="Valid">Non-padding queries.</param>
/// <param name="Real">Real (ground-truth) queries.</param>
public sealed record IcdQueries(Tensor Classes, Tensor ReferencePoints, Tensor BoxSizes, Tensor Boxes, Tensor Valid, Tensor Real);
