namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>The box regression loss of <see cref="FcosLoss"/>.</summary>
public enum BoxLossKind
{
    /// <summary>Generalised IoU loss <c>1 − GIoU</c> (Rezatofighi et al. 2019; AdelaiDet's FCOS default).</summary>
    GIoU,

    /// <summary>IoU loss <c>−log IoU</c> (UnitBox; the original FCOS paper).</summary>
    IoU,
}
