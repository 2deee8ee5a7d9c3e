namespace KnowledgeDistillation.Detection.Models;

/// <summary>How <see cref="FcosHead"/> turns the box convolution's output <c>t</c> into distances (l, t, r, b) in pixels at level <c>l</c> with stride <c>stride_l</c> and learned scale <c>s_l</c>.</summary>
public enum FcosBoxOutput
{
    /// <summary>
    /// <c>exp(s_l · t) · stride_l</c>: the FCOS paper's exponential output on stride-normalised distances (the default).
    /// Always positive and always passes a gradient, so a box unit cannot die; at initialisation (t ≈ 0) every distance is one stride.
    /// </summary>
    Exponential,

    /// <summary>
    /// <c>relu(s_l · t) · stride_l</c>: AdelaiDet's layout for normalised regression targets. A unit whose output falls below
    /// zero at every position passes no gradient and stays dead (seen on BCCD, docs/benchmarks.md); kept to load detectors
    /// trained with it (the package's default before 2026-12-03).
    /// </summary>
    ScaledRelu,
}
