namespace KnowledgeDistillation.Detection.Data;

/// <summary>Something a reader repaired or skipped, with where it was.</summary>
/// <param name="File">The annotation file.</param>
/// <param name="Message">What was found and what was done.</param>
public sealed record AnnotationIssue(string File, string Message);
