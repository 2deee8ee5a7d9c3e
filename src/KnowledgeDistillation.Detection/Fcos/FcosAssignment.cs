using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>The training targets of every point.</summary>
/// <param name="Labels">Class per point, int64 <c>[B, S]</c>; the class count C marks background.</param>
/// <param name="BoxTargets">Distances (left, top, right, bottom) to the assigned box in pixels <c>[B, S, 4]</c> (0 for background).</param>
/// <param name="Positive">Foreground mask <c>[B, S]</c>.</param>
/// <param name="Centerness">Centerness target <c>sqrt(min(l,r)/max(l,r) · min(t,b)/max(t,b))</c> <c>[B, S]</c> (0 for background).</param>
public sealed record FcosAssignment(Tensor Labels, Tensor BoxTargets, Tensor Positive, Tensor Centerness);
