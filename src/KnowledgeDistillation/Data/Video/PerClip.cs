namespace KnowledgeDistillation.Data;

/// <summary>
/// Applies an image transform (<see cref="RandomCrop"/>, <see cref="RandomHorizontalFlip"/>, <see cref="Normalize"/>, a
/// <see cref="Compose"/> of them) to every frame of a clip <c>[T, C, H, W]</c> with the same random draws, so a crop or flip is
/// consistent across the clip's frames (frame-wise independent augmentation would make the clip flicker). The clip's stream gives
/// one 64-bit state; each frame's transform runs on a fresh stream from that state.
/// </summary>
public sealed class PerClip : ISampleTransform
{
    /// <summary>Wraps an image transform.</summary>
    /// <param name="frameTransform">The transform of one frame <c>[C, H, W]</c>; it must give every frame the same output shape.</param>
    public PerClip(ISampleTransform frameTransform) => FrameTransform = frameTransform ?? throw new ArgumentNullException(nameof(frameTransform));

    /// <summary>The transform applied to each frame.</summary>
    public ISampleTransform FrameTransform { get; }

    /// <inheritdoc />
    public bool IsRandom => FrameTransform.IsRandom;

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (frames, c, h, w) = ClipShape.Of(sample, nameof(PerClip));
        var state = random.NextUInt64();
        var frame = c * h * w;
        float[]? values = null;
        int[]? shape = null;
        for (var t = 0; t < frames; t++)
        {
            var image = new DataSample(sample.Values.AsSpan(t * frame, frame).ToArray(), new[] { c, h, w }, sample.Label);
            var result = FrameTransform.Apply(image, new SampleRandom(state))
                ?? throw new InvalidOperationException($"{FrameTransform.GetType().Name} returned null for frame {t}.");
            if (shape is null)
            {
                shape = result.Shape;
                values = new float[(long)frames * result.Values.Length];
            }
            else if (!shape.AsSpan().SequenceEqual(result.Shape))
            {
                throw new InvalidOperationException($"{FrameTransform.GetType().Name} gave frame {t} shape {DataShape.Format(result.Shape)} but frame 0 {DataShape.Format(shape)}.");
            }

            result.Values.CopyTo(values!, (long)t * result.Values.Length);
        }

        return sample.With(values!, new[] { frames }.Concat(shape!).ToArray());
    }
}
