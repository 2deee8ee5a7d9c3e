namespace KnowledgeDistillation.Detection.Data;

/// <summary>What a reader does with an annotation problem it can work around.</summary>
public enum AnnotationPolicy
{
    /// <summary>Throw an <see cref="InvalidDataException"/> naming the file and the problem.</summary>
    Error,

    /// <summary>Skip the object or file and record an <see cref="AnnotationIssue"/> in <see cref="DetectionDataset.Issues"/>.</summary>
    Skip,
}
