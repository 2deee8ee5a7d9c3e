namespace KnowledgeDistillation.Data;

/// <summary>The self-supervised video tasks <see cref="VideoPretext"/> builds labels for (the teachers of Zhang and Peng's setting).</summary>
public enum VideoPretextTask
{
    /// <summary>Frame-order verification (Misra, Zitnick and Hebert, ECCV 2016): label 1 if the frames are in order, 0 if shuffled (a non-identity permutation); 2 classes.</summary>
    FrameOrder,

    /// <summary>
    /// Temporal coherence: label 1 if the clip plays continuously, 0 if it has a cut (from a random frame k on, the frames continue
    /// from another point of the clip, <c>(k + j + i) mod T</c> with a jump <c>j</c> of at least 2); 2 classes. This library's
    /// classification form of the slowness prior (Mobahi, Collobert and Weston, ICML 2009).
    /// </summary>
    TemporalCoherence,

    /// <summary>Rotation (Gidaris et al., ICLR 2018; 3DRotNet, Jing and Tian 2018): every frame rotated by 0, 90, 180 or 270 degrees, the label is the quarter turn; 4 classes (square frames).</summary>
    Rotation,
}
