namespace KnowledgeDistillation.Losses;

/// <summary>What each peer of a <see cref="MutualLearningLoss"/> cohort is trained to match.</summary>
public enum MutualLearningTarget
{
    /// <summary>
    /// Every other peer separately, averaged: <c>(1 / (K - 1)) Σ_{l≠k} KL(p_l ‖ p_k)</c> (Zhang et al. 2018, Eq. 5; the default).
    /// </summary>
    PerPeer,

    /// <summary>
    /// The mean of the other peers' distributions as one target: <c>KL(p̄_{-k} ‖ p_k)</c> with
    /// <c>p̄_{-k} = (1 / (K - 1)) Σ_{l≠k} p_l</c> (the paper's "DML with ensemble teacher"). Equal to
    /// <see cref="PerPeer"/> for two peers. With the peers detached its gradient w.r.t. z_k is the same as
    /// <see cref="PerPeer"/>'s, <c>(T / B)(p_k − p̄_{-k})</c>: the two differ by a term constant in z_k (the mean of the
    /// peers' entropies vs. the entropy of their mean), so they train identically and only the reported value is lower.
    /// </summary>
    PeerEnsemble,
}
