namespace KnowledgeDistillation.Data;

/// <summary>Checks that a sample is a clip <c>[T, C, H, W]</c> for the clip transforms and readers.</summary>
internal static class ClipShape
{
    /// <summary>The frames, channels, height and width of <paramref name="sample"/>, or an exception naming <paramref name="what"/>.</summary>
    public static (int Frames, int Channels, int Height, int Width) Of(DataSample sample, string what)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Shape.Length != 4)
        {
            throw new ArgumentException(
                $"{what} expects clip samples of shape [frames, channels, height, width]; got {DataShape.Format(sample.Shape)}.", nameof(sample));
        }

        return (sample.Shape[0], sample.Shape[1], sample.Shape[2], sample.Shape[3]);
    }
}
