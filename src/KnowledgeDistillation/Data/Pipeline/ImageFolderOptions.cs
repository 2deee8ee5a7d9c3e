namespace KnowledgeDistillation.Data;

/// <summary>How an <see cref="ImageFolderDataset"/> finds and decodes images.</summary>
public sealed class ImageFolderOptions
{
    /// <summary>Resize every image to this width, in pixels (with <see cref="Height"/>); <c>null</c> (default) keeps the stored size, which must then be the same for all images.</summary>
    public int? Width { get; set; }

    /// <summary>Resize every image to this height, in pixels (with <see cref="Width"/>); <c>null</c> (default) keeps the stored size.</summary>
    public int? Height { get; set; }

    /// <summary>Decode to one grey channel (ITU-R 601 luma, as PIL's "L") instead of three RGB channels (default false).</summary>
    public bool Grayscale { get; set; }

    /// <summary>
    /// The largest image accepted, in pixels (width x height as the file's header states them; default 64 Mi pixels, a
    /// 256 MiB RGBA buffer). A header beyond it is an <see cref="InvalidDataException"/> before any pixel buffer is
    /// allocated, so a damaged or hostile file cannot make the decoder allocate memory its size does not justify.
    /// </summary>
    public long MaxPixels { get; set; } = 64L << 20;

    /// <summary>The file extensions read, case-insensitive (default .png, .jpg, .jpeg, .bmp, .gif, .webp); other files are ignored.</summary>
    public IList<string> Extensions { get; } = new List<string> { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>Checks every value; throws an exception whose parameter name is the offending property.</summary>
    /// <exception cref="ArgumentException">A value is invalid.</exception>
    public void Validate()
    {
        if (Width.HasValue != Height.HasValue)
        {
            throw new ArgumentException($"Set both {nameof(Width)} and {nameof(Height)} to resize, or neither.", Width.HasValue ? nameof(Height) : nameof(Width));
        }

        if (Width is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Width), Width, $"{nameof(Width)} must be null or >= 1.");
        }

        if (Height is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Height), Height, $"{nameof(Height)} must be null or >= 1.");
        }

        if (MaxPixels < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPixels), MaxPixels, $"{nameof(MaxPixels)} must be >= 1.");
        }

        if (Extensions.Count == 0 || Extensions.Any(e => string.IsNullOrWhiteSpace(e) || !e.StartsWith('.')))
        {
            throw new ArgumentException($"{nameof(Extensions)} must list at least one extension, each starting with '.'.", nameof(Extensions));
        }
    }
}
