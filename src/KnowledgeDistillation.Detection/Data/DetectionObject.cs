namespace KnowledgeDistillation.Detection.Data;

/// <summary>One annotated object.</summary>
/// <param name="ClassIndex">The class, an index into the dataset's class names.</param>
/// <param name="Box">The box in the original image's pixels.</param>
/// <param name="Difficult">VOC's difficult flag (COCO's iscrowd): ignored by evaluation (neither a hit nor a miss) and, by default, by training.</param>
public sealed record DetectionObject(int ClassIndex, BoundingBox Box, bool Difficult = false);
