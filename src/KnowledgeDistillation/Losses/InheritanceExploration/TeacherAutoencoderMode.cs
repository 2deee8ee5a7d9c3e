namespace KnowledgeDistillation.Losses;

/// <summary>How <see cref="InheritanceExplorationLoss"/> treats the autoencoder that extracts the teacher's factor.</summary>
public enum TeacherAutoencoderMode
{
    /// <summary>
    /// IE-KD (official): trained beforehand (a <see cref="FactorReconstructionLoss"/> stage), then frozen: eval mode (BN
    /// running statistics), no gradient, not a trainable module of this loss.
    /// </summary>
    Frozen,

    /// <summary>
    /// For IE-DML, where the "teacher" is a peer trained at the same time: this loss owns the autoencoder as a trainable
    /// module and trains it in the same step with the reconstruction L1 of the detached peer feature; the factor it
    /// produces is detached before it serves as the inheritance/exploration target. (The official repository has no IE-DML
    /// code; this is our design, see docs/methods/ie-kd-notes.md.)
    /// </summary>
    Online,
}
