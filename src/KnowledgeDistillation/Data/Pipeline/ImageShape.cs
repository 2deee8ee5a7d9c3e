namespace KnowledgeDistillation.Data;

/// <summary>Checks that a sample is an image <c>[C, H, W]</c> for the image transforms.</summary>
internal static class ImageShape
{
    /// <summary>The channels, height and width of <paramref name="sample"/>, or an exception naming <paramref name="transform"/>.</summary>
    public static (int Channels, int Height, int Width) Of(DataSample sample, string transform)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Shape.Length != 3)
        {
            throw new ArgumentException(
                $"{transform} expects image samples of shape [C, H, W]; got {DataShape.Format(sample.Shape)}.", nameof(sample));
        }

        return (sample.Shape[0], sample.Shape[1], sample.Shape[2]);
    }
}
