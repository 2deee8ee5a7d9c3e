using SkiaSharp;

namespace KnowledgeDistillation.Detection.Data;

/// <summary>
/// Decodes an image file with SkiaSharp (the image library the core package already depends on: maintained, MIT, native
/// decoders for JPEG/PNG/BMP/GIF/WebP, and with the NoDependencies native assets no fontconfig on Linux) and resizes it
/// (bilinear) to a requested size. A file that cannot be decoded is an <see cref="InvalidDataException"/> naming it.
/// </summary>
public static class DetectionImageDecoder
{
    /// <summary>The largest image accepted, in pixels (a header stating more is treated as damaged).</summary>
    public const long MaxPixels = 64L * 1024 * 1024;

    /// <summary>Decodes <paramref name="path"/> and resizes it to <paramref name="width"/> x <paramref name="height"/>; returns RGB bytes, row-major, 3 per pixel.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="width">Output width (&gt;= 1).</param>
    /// <param name="height">Output height (&gt;= 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a decodable image, or is damaged or cut.</exception>
    public static byte[] DecodeRgb(string path, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The image '{path}' does not exist.", path);
        }

        using var decoded = Decode(path);
        using var resized = decoded.Width == width && decoded.Height == height
            ? decoded.Copy()
            : decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None))
              ?? throw new InvalidDataException($"Image '{path}' could not be resized to {width}x{height}.");
        var pixels = resized.GetPixelSpan();
        var rgb = new byte[width * height * 3];
        for (var p = 0; p < width * height; p++)
        {
            rgb[3 * p] = pixels[4 * p];
            rgb[(3 * p) + 1] = pixels[(4 * p) + 1];
            rgb[(3 * p) + 2] = pixels[(4 * p) + 2];
        }

        return rgb;
    }

    private static SKBitmap Decode(string path)
    {
        using var codec = SKCodec.Create(path, out var result)
            ?? throw new InvalidDataException($"Image '{path}' cannot be decoded ({result}); it is not a PNG, JPEG, BMP, GIF or WebP file, or it is damaged.");
        var (w, h) = (codec.Info.Width, codec.Info.Height);
        if (w < 1 || h < 1 || (long)w * h > MaxPixels)
        {
            throw new InvalidDataException($"Image '{path}' states a size of {w}x{h} pixels; expected 1..{MaxPixels} pixels.");
        }

        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var status = codec.GetPixels(info, bitmap.GetPixels());
        if (status != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new InvalidDataException($"Image '{path}' cannot be decoded ({status}); the file is damaged or cut.");
        }

        return bitmap;
    }
}
