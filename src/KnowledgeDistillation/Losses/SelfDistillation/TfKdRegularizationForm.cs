namespace KnowledgeDistillation.Losses;

/// <summary>Which of the two published forms of Tf-KD_reg's virtual-teacher term <see cref="TfKdRegularizationLoss"/> computes.</summary>
public enum TfKdRegularizationForm
{
    /// <summary>
    /// The official code (<c>loss_kd_regularization</c>, default, reproduces the published numbers): target
    /// <c>q = softmax(p^d / T)</c> (a softmax over the probability vector), student at temperature 1, PyTorch's
    /// element-wise mean reduction (divides by B·K), times the multiplier, no T².
    /// </summary>
    OfficialCode,

    /// <summary>
    /// The paper's text: <c>KL(p^d_T ‖ softmax(z / T))</c>, batch mean, with the virtual teacher softened as a distribution,
    /// <c>p^d_T ∝ (p^d)^{1/T} = softmax(log p^d / T)</c>; times the multiplier, no T². At T = 1 this is <c>KL(p^d ‖ softmax(z))</c>.
    /// </summary>
    Paper,
}
