namespace KnowledgeDistillation.Detection.Data;

/// <summary>One image and its objects.</summary>
/// <param name="ImagePath">The image file.</param>
/// <param name="Width">Image width in pixels, as annotated.</param>
/// <param name="Height">Image height in pixels, as annotated.</param>
/// <param name="Objects">The annotated objects (may be empty: a background image).</param>
public sealed record DetectionSample(string ImagePath, int Width, int Height, IReadOnlyList<DetectionObject> Objects);
