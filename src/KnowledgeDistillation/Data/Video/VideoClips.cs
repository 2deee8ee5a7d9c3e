using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Clip batches: a video model reads <c>[batch, frames, channels, height, width]</c> (<c>[B, T, C, H, W]</c>); a
/// <see cref="DataPipeline"/> over a clip dataset (samples <c>[T, C, H, W]</c>: <see cref="MovingFashionMnist"/>,
/// <see cref="ClipFolderDataset"/>) yields exactly that. These checks give the errors a model or a hand-built batch needs before
/// native code sees the tensor.
/// </summary>
public static class VideoClips
{
    /// <summary>The layout of a clip batch, for messages.</summary>
    public const string Layout = "[batch, frames, channels, height, width]";

    /// <summary>Checks that <paramref name="clips"/> is a floating point clip batch <c>[B, T, C, H, W]</c> with every dimension &gt;= 1.</summary>
    /// <param name="clips">The batch.</param>
    /// <param name="what">The argument's name for the message.</param>
    /// <param name="channels">The required channel count, or null for any.</param>
    /// <returns><paramref name="clips"/>.</returns>
    /// <exception cref="ArgumentException">Another rank, an empty dimension, another channel count, or not floating point.</exception>
    public static Tensor CheckBatch(Tensor clips, string what = "clips", int? channels = null)
    {
        ArgumentNullException.ThrowIfNull(clips, what);
        if (clips.dim() != 5)
        {
            var hint = clips.dim() == 4 ? " (one clip [T, C, H, W]? add the batch dimension with unsqueeze(0); a batch of images? add the frame dimension)" : string.Empty;
            throw new ArgumentException($"{what} must have shape {Layout}; got {Guard.Shape(clips)}{hint}.", what);
        }

        if (clips.shape.Any(d => d < 1))
        {
            throw new ArgumentException($"{what} must have every dimension >= 1; got {Guard.Shape(clips)}.", what);
        }

        if (channels is { } c && clips.shape[2] != c)
        {
            throw new ArgumentException($"{what} must have {c} channel(s), shape [batch, frames, {c}, height, width]; got {Guard.Shape(clips)}.", what);
        }

        return Guard.FloatingPoint(clips, what);
    }

    /// <summary>
    /// Stacks clips <c>[T, C, H, W]</c> into a batch <c>[B, T, C, H, W]</c>, checking first that they agree: the same frame count
    /// (the message names the first clip that differs; sample them to one length with <see cref="TemporalSampling"/>), channels and
    /// frame size.
    /// </summary>
    /// <param name="clips">At least one clip, all on one device and of one dtype.</param>
    /// <returns>The batch.</returns>
    /// <exception cref="ArgumentException">No clips, a clip that is not 4-D, or clips whose shapes differ.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> clips)
    {
        ArgumentNullException.ThrowIfNull(clips);
        if (clips.Count == 0)
        {
            throw new ArgumentException("A clip batch needs at least one clip.", nameof(clips));
        }

        for (var i = 0; i < clips.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(clips[i], nameof(clips));
            if (clips[i].dim() != 4)
            {
                throw new ArgumentException($"Clip {i} must have shape [frames, channels, height, width]; got {Guard.Shape(clips[i])}.", nameof(clips));
            }

            if (i > 0 && clips[i].shape[0] != clips[0].shape[0])
            {
                throw new ArgumentException(
                    $"Clip {i} has {clips[i].shape[0]} frames {Guard.Shape(clips[i])} but clip 0 has {clips[0].shape[0]} {Guard.Shape(clips[0])}; every clip of a batch must have the same frame count (sample them with TemporalSampling).",
                    nameof(clips));
            }

            if (i > 0 && !clips[i].shape.SequenceEqual(clips[0].shape))
            {
                throw new ArgumentException($"Clip {i} has shape {Guard.Shape(clips[i])} but clip 0 has {Guard.Shape(clips[0])}; the frames of a batch must have one size and channel count.", nameof(clips));
            }

            if (i > 0 && (clips[i].dtype != clips[0].dtype || clips[i].device_type != clips[0].device_type || clips[i].device_index != clips[0].device_index))
            {
                throw new ArgumentException($"Clip {i} is {clips[i].dtype} on {clips[i].device} but clip 0 is {clips[0].dtype} on {clips[0].device}.", nameof(clips));
            }
        }

        return stack(clips.ToArray());
    }
}
