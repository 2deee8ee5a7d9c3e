namespace KnowledgeDistillation.Losses;

/// <summary>The dis-similarity that IE-KD's exploration half maximises against the teacher's factor (official <c>exp_loss</c>).</summary>
public enum ExplorationForm
{
    /// <summary>
    /// The default: the negative factor-transfer L1 (official <c>NormLoss(p=1, negative=True)</c>, the exploration term of
    /// its <c>DDTLoss</c>): <c>−(1 / (B·D)) Σ_i ‖φ(x_i) − φ(t_i)‖₁</c>, bounded below by <c>−2/D</c> thanks to φ.
    /// </summary>
    NegativeL1,

    /// <summary>The absolute cosine similarity (official <c>CosLoss(negative=True)</c>): <c>(1/B) Σ_i |cos(x_i, t_i)|</c>, in [0, 1].</summary>
    AbsoluteCosine,
}
