namespace KnowledgeDistillation.Losses;

/// <summary>How <see cref="MultiTeacherKDLoss"/> weighs its K teachers, per sample <c>i</c> and teacher <c>k</c>.</summary>
public enum TeacherWeighting
{
    /// <summary>
    /// Every teacher 1/K (the averaged soft targets of You, Xu, Xu and Tao 2017, "Learning from Multiple Teacher Networks", KDD;
    /// CA-MKD's AVERAGE_LOSS baseline).
    /// </summary>
    Average,

    /// <summary>User weights, normalised to sum 1, the same for every sample.</summary>
    Fixed,

    /// <summary>
    /// Confidence-aware weights of CA-MKD (Zhang, Chen and Wang, ICASSP 2022, arXiv 2201.00007): from each teacher's
    /// cross-entropy on the label at T = 1, <c>w_ik = (1 − softmax_k(CE_ik)) / ((K − 1) · K)</c>, so a teacher that is
    /// right on a sample counts more. Reads the labels.
    /// </summary>
    Confidence,

    /// <summary>
    /// Entropy-based weights of EBKD (Kwon, Na, Lee and Hwang, ICASSP 2020, "Adaptive knowledge distillation based on
    /// entropy"), as CA-MKD's code compares them: from each teacher's prediction entropy at T = 1,
    /// <c>w_ik = (1 − H_ik / Σ_j H_ij) / K</c>, so a confident teacher counts more.
    /// </summary>
    Entropy,

    /// <summary>
    /// Per-sample weights from a trainable <see cref="TeacherWeightingNetwork"/> on the teachers' logits, trained on the
    /// labels through the weighted teacher ensemble (see <see cref="MultiTeacherKDLoss"/>). Reads the labels.
    /// </summary>
    Learned,
}
