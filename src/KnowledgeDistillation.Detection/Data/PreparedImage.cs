namespace KnowledgeDistillation.Detection.Data;

/// <summary>One image after resizing and augmentation.</summary>
/// <param name="Rgb">RGB bytes, row-major, 3 per pixel.</param>
/// <param name="Width">Width after resizing.</param>
/// <param name="Height">Height after resizing.</param>
/// <param name="Scale">Resize factor applied to the longer side.</param>
/// <param name="Flipped">Whether the image was flipped horizontally.</param>
/// <param name="Objects">The objects, boxes in the resized (and flipped) image's pixels.</param>
public sealed record PreparedImage(byte[] Rgb, int Width, int Height, double Scale, bool Flipped, IReadOnlyList<DetectionObject> Objects);
