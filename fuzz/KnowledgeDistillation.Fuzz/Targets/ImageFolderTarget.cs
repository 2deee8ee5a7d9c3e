using KnowledgeDistillation.Data;
using SkiaSharp;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// <see cref="ImageFolderDataset"/> (SkiaSharp decoding) on one image file in a one-class folder, read as RGB, as grey
/// and resized. Seeds are PNG, JPEG and WebP files encoded with SkiaSharp, the decoder the dataset uses. The dataset's
/// <see cref="ImageFolderOptions.MaxPixels"/> is lowered to 1 Mi pixels here so a header stating a huge size is refused
/// within the driver's memory limit (the default, 64 Mi pixels, would be a legitimate 256 MiB allocation).
/// </summary>
internal sealed class ImageFolderTarget : FuzzTarget
{
    /// <inheritdoc />
    public override string Name => "image-folder";

    /// <inheritdoc />
    public override string Api => "ImageFolderDataset(root).Get(i): RGB, grey, resized";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch) => new[]
    {
        ("image-6x5.png", Encode(SKEncodedImageFormat.Png, 6, 5)),
        ("image-8x4.jpg", Encode(SKEncodedImageFormat.Jpeg, 8, 4)),
        ("image-5x5.webp", Encode(SKEncodedImageFormat.Webp, 5, 5)),
    };

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var root = Path.Combine(scratch, "images");
        var folder = Path.Combine(root, "class");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "input.png"), input);
        foreach (var options in new[]
        {
            new ImageFolderOptions { MaxPixels = 1 << 20 },
            new ImageFolderOptions { MaxPixels = 1 << 20, Grayscale = true },
            new ImageFolderOptions { MaxPixels = 1 << 20, Width = 7, Height = 3 },
        })
        {
            var sample = new ImageFolderDataset(root, options).Get(0);
            GC.KeepAlive(sample.Values.Sum());
        }
    }

    private static byte[] Encode(SKEncodedImageFormat format, int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 40), (byte)(y * 50), (byte)((x + y) * 20)));
            }
        }

        using var data = bitmap.Encode(format, 90) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format} here.");
        return data.ToArray();
    }
}
