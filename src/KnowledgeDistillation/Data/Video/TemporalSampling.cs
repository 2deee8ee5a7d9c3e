namespace KnowledgeDistillation.Data;

/// <summary>
/// Picks <see cref="Frames"/> frames of a clip <c>[T, C, H, W]</c>, so clips of any length batch together:
/// <see cref="Uniform"/> spreads them evenly over the clip (TSN-style, the same frames every epoch: for evaluation), and
/// <see cref="RandomOffset"/> takes a window of <c>Frames</c> frames <see cref="Stride"/> apart from a random start (a training
/// augmentation; the start is drawn from the sample's stream). A clip shorter than needed repeats its last frame.
/// </summary>
public sealed class TemporalSampling : ISampleTransform
{
    private TemporalSampling(int frames, int stride, bool random)
    {
        Frames = frames >= 1 ? frames : throw new ArgumentOutOfRangeException(nameof(frames), frames, "'frames' must be >= 1.");
        Stride = stride >= 1 ? stride : throw new ArgumentOutOfRangeException(nameof(stride), stride, "'stride' must be >= 1.");
        IsRandom = random;
    }

    /// <summary>The number of frames a sampled clip has.</summary>
    public int Frames { get; }

    /// <summary>The step between the frames of a random window.</summary>
    public int Stride { get; }

    /// <inheritdoc />
    public bool IsRandom { get; }

    /// <summary>Frames at <c>round(i (T − 1) / (Frames − 1))</c>, i = 0..Frames−1 (the middle frame when Frames = 1).</summary>
    /// <param name="frames">Frames to keep, &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one frame.</exception>
    public static TemporalSampling Uniform(int frames) => new(frames, 1, random: false);

    /// <summary>Frames <c>o, o + stride, ..., o + (Frames − 1) stride</c> from a uniform random start <c>o</c> (indices past the end repeat the last frame).</summary>
    /// <param name="frames">Frames to keep, &gt;= 1.</param>
    /// <param name="stride">The step between frames, &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than one frame or a stride below 1.</exception>
    public static TemporalSampling RandomOffset(int frames, int stride = 1) => new(frames, stride, random: true);

    /// <summary>The frame indices this sampling picks from a clip of <paramref name="length"/> frames.</summary>
    /// <param name="length">The clip's frame count, &gt;= 1.</param>
    /// <param name="random">The sample's stream (read only by <see cref="RandomOffset"/>).</param>
    public int[] Indices(int length, SampleRandom? random = null)
    {
        if (length < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "A clip needs at least one frame.");
        }

        if (!IsRandom)
        {
            return Enumerable.Range(0, Frames)
                .Select(i => Frames == 1 ? (length - 1) / 2 : (int)Math.Round(i * (length - 1) / (double)(Frames - 1), MidpointRounding.ToEven))
                .ToArray();
        }

        ArgumentNullException.ThrowIfNull(random);
        var span = ((Frames - 1) * Stride) + 1;
        var offset = random.NextInt(Math.Max(1, length - span + 1));
        return Enumerable.Range(0, Frames).Select(i => Math.Min(offset + (i * Stride), length - 1)).ToArray();
    }

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        var (length, c, h, w) = ClipShape.Of(sample, nameof(TemporalSampling));
        var frame = c * h * w;
        var indices = Indices(length, random);
        var values = new float[(long)Frames * frame];
        for (var i = 0; i < Frames; i++)
        {
            sample.Values.AsSpan(indices[i] * frame, frame).CopyTo(values.AsSpan(i * frame, frame));
        }

        return sample.With(values, new[] { Frames, c, h, w });
    }
}
