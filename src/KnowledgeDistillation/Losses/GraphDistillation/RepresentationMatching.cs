namespace KnowledgeDistillation.Losses;

/// <summary>How the representation graph matches the student's adapted features to an edge's fused teacher features.</summary>
public enum RepresentationMatching
{
    /// <summary>The squared MMD between the two batches as distributions (<see cref="GaussianMmd"/>); needs batches larger than 1.</summary>
    Mmd,

    /// <summary>The per-sample squared Euclidean distance, batch mean (<c>1/B Σ_b ‖u_b − e_b‖²</c>); the fallback for tiny batches.</summary>
    SquaredError,
}
