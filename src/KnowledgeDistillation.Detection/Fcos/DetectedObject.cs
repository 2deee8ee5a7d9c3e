using KnowledgeDistillation.Detection.Data;

namespace KnowledgeDistillation.Detection.Fcos;

/// <summary>One detected object.</summary>
/// <param name="ClassIndex">The class.</param>
/// <param name="Box">The box, in the input image's pixels.</param>
/// <param name="Score">The confidence.</param>
public sealed record DetectedObject(int ClassIndex, BoundingBox Box, double Score);
