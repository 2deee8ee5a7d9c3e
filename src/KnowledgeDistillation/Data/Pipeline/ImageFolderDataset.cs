using SkiaSharp;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Images on disk in one folder per class (<c>root/cat/001.png</c>, <c>root/dog/002.jpg</c>; torchvision's
/// <c>ImageFolder</c> layout), decoded with SkiaSharp when a sample is read, so the data need not fit in memory.
/// Classes are the subfolder names in ordinal order (label 0 is the first); samples are the files of class 0, then
/// class 1, ..., each class's files in ordinal order. Samples are float32 <c>[3, H, W]</c> RGB (or <c>[1, H, W]</c>
/// grey) with pixels in [0, 1].
/// </summary>
public sealed class ImageFolderDataset : IDataset
{
    private readonly string[] _files;
    private readonly int[] _labels;
    private readonly ImageFolderOptions _options;

    /// <summary>Lists the images under <paramref name="root"/> (decoding happens later, per sample).</summary>
    /// <param name="root">The folder holding one subfolder per class.</param>
    /// <param name="options">Size, colour and extensions; <c>null</c> uses the defaults.</param>
    /// <exception cref="DirectoryNotFoundException"><paramref name="root"/> does not exist.</exception>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="InvalidDataException">There are no class subfolders, or no images in them.</exception>
    public ImageFolderDataset(string root, ImageFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        options ??= new ImageFolderOptions();
        options.Validate();
        Root = Path.GetFullPath(root);
        if (!Directory.Exists(Root))
        {
            throw new DirectoryNotFoundException($"The image folder '{Root}' does not exist.");
        }

        var classes = Directory.GetDirectories(Root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0)
        {
            throw new InvalidDataException($"The image folder '{Root}' has no class subfolders; put the images of each class in a folder named after it.");
        }

        var extensions = new HashSet<string>(options.Extensions, StringComparer.OrdinalIgnoreCase);
        var files = new List<string>();
        var labels = new List<int>();
        for (var c = 0; c < classes.Length; c++)
        {
            foreach (var file in Directory.GetFiles(Path.Combine(Root, classes[c])).Where(f => extensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal))
            {
                files.Add(file);
                labels.Add(c);
            }
        }

        if (files.Count == 0)
        {
            throw new InvalidDataException(
                $"The class folders of '{Root}' hold no images with the extensions {string.Join(", ", options.Extensions)}.");
        }

        _files = files.ToArray();
        _labels = labels.ToArray();
        ClassNames = Array.AsReadOnly(classes);
        _options = new ImageFolderOptions { Width = options.Width, Height = options.Height, Grayscale = options.Grayscale, MaxPixels = options.MaxPixels };
    }

    /// <summary>The root folder.</summary>
    public string Root { get; }

    /// <summary>The class names (subfolder names), indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The image files, indexed by sample.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <inheritdoc />
    public long Count => _files.Length;

    /// <inheritdoc />
    public int? ClassCount => ClassNames.Count;

    /// <inheritdoc />
    /// <exception cref="InvalidDataException">The file cannot be decoded, or (without resizing) its size differs from the first image's.</exception>
    public DataSample Get(long index)
    {
        if (index < 0 || index >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Expected 0..{Count - 1}.");
        }

        return Read(_files[index], _options, _labels[index]);
    }

    /// <summary>Decodes one image file into a sample <c>[C, H, W]</c> in [0, 1] (also used by <see cref="ClipFolderDataset"/> for frames).</summary>
    internal static DataSample Read(string path, ImageFolderOptions options, long? label)
    {
        using var bitmap = Decode(path, options);
        var width = bitmap.Width;
        var height = bitmap.Height;
        var channels = options.Grayscale ? 1 : 3;
        var values = new float[channels * height * width];
        var pixels = bitmap.GetPixelSpan();
        var plane = height * width;
        for (var p = 0; p < plane; p++)
        {
            float r = pixels[4 * p], g = pixels[(4 * p) + 1], b = pixels[(4 * p) + 2];
            if (channels == 1)
            {
                values[p] = MathF.Round((r * 299 + g * 587 + b * 114) / 1000f) / 255f;
            }
            else
            {
                values[p] = r / 255f;
                values[plane + p] = g / 255f;
                values[(2 * plane) + p] = b / 255f;
            }
        }

        return new DataSample(values, [channels, height, width], label);
    }

    private static SKBitmap Decode(string path, ImageFolderOptions options)
    {
        SKBitmap? decoded = null;
        try
        {
            using (var codec = SKCodec.Create(path, out var result))
            {
                if (codec is null)
                {
                    throw new InvalidDataException($"Image '{path}' cannot be decoded ({result}); it is not a PNG, JPEG, BMP, GIF or WebP file, or it is damaged.");
                }

                var (w, h) = (codec.Info.Width, codec.Info.Height);
                if (w < 1 || h < 1 || (long)w * h > options.MaxPixels)
                {
                    throw new InvalidDataException(
                        $"Image '{path}' states a size of {w}x{h} pixels in its header; expected 1..{options.MaxPixels} pixels " +
                        $"(ImageFolderOptions.MaxPixels). The file is damaged, or raise the limit for images this large.");
                }

                var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
                decoded = new SKBitmap(info);
                var status = codec.GetPixels(info, decoded.GetPixels());
                if (status != SKCodecResult.Success)
                {
                    throw new InvalidDataException($"Image '{path}' cannot be decoded ({status}); the file is damaged or cut.");
                }
            }

            if (options.Width is not { } width || options.Height is not { } height || (decoded.Width == width && decoded.Height == height))
            {
                var result = decoded;
                decoded = null;
                return result;
            }

            var resized = decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None))
                ?? throw new InvalidDataException($"Image '{path}' could not be resized to {width}x{height}.");
            return resized;
        }
        finally
        {
            decoded?.Dispose();
        }
    }
}
