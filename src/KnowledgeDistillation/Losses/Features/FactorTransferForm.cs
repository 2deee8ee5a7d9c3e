namespace KnowledgeDistillation.Losses;

/// <summary>Which factor <see cref="FactorTransferLoss"/> compares.</summary>
public enum FactorTransferForm
{
    /// <summary>
    /// The paper's (Kim et al., NeurIPS 2018, Eq. 3; also IE-KD's inheritance loss): each factor flattened and
    /// L2-normalised, <c>mean |φ(T(F_s)) − φ(P(F_t))|^p</c> with <c>φ(x) = vec(x) / ‖vec(x)‖₂</c>
    /// (<see cref="FactorTransfer.Distance"/>).
    /// </summary>
    Flattened,

    /// <summary>
    /// RepDistiller's (<c>distiller_zoo/FT.py</c>, <c>FactorTransfer(p1=2, p2=1)</c>, the variant behind its table's
    /// 72.86 on resnet32x4 → resnet8x4): the channel mean of each factor squared, flattened and L2-normalised, an
    /// attention map of the factor, <c>mean |a(T(F_s)) − a(P(F_t))|^p</c> with <c>a(x) = normalize(mean_c x²)</c>
    /// (<see cref="FactorTransfer.SpatialDistance"/>).
    /// </summary>
    SpatialAttention,
}
