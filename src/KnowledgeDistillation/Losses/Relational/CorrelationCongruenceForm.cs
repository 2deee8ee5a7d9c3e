namespace KnowledgeDistillation.Losses;

/// <summary>Which formula <see cref="CorrelationCongruenceLoss"/> uses.</summary>
public enum CorrelationCongruenceForm
{
    /// <summary>
    /// The paper's (Peng et al., ICCV 2019, Eqs. 5 and 13): the B×B correlation matrix of each network's embeddings under a
    /// Gaussian RBF kernel approximated by its P-order Taylor expansion for unit vectors,
    /// <c>ψ_ij = e^(−2γ) Σ_{p=0..P} (2γ)^p / p! · (e_i · e_j)^p</c>, and
    /// <c>L_CC = ‖ψ(E_t) − ψ(E_s)‖²_F / B²</c>. Use it with L2-normalised embeddings (<see cref="CorrelationEmbedding"/>'s default).
    /// </summary>
    GaussianKernel,

    /// <summary>The paper's bilinear-pool kernel: <c>ψ = E Eᵀ</c>, then <c>L_CC = ‖ψ(E_t) − ψ(E_s)‖²_F / B²</c>.</summary>
    Bilinear,

    /// <summary>
    /// RepDistiller's <c>distiller_zoo/CC.py</c> (<c>Correlation</c>, restructured from the authors' code, on
    /// <c>LinearEmbed</c> heads without normalisation, feat_dim 128, weight 0.02), the variant behind RepDistiller's
    /// table's 72.97 on resnet32x4 → resnet8x4: with <c>Δ = |E_s − E_t|</c>,
    /// <c>L = (1 / (B − 1)) Σ_{i=1..B−1} Σ_d Δ_{i,d} · Δ_{i+1,d}</c>: consecutive samples' absolute embedding differences
    /// multiplied, not a kernel matrix. Needs equal embedding widths and B &gt;= 2.
    /// </summary>
    RepDistiller,
}
