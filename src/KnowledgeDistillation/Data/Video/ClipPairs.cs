namespace KnowledgeDistillation.Data;

/// <summary>
/// The input of the clip-level contrastive pretext task (two clips of one video are positives): applies a clip transform
/// <see cref="View"/> twice to a clip <c>[T, C, H, W]</c>, each time on its own stream drawn from the sample's, and concatenates
/// the two results along time, <c>[2T', C, H, W]</c> (frames <c>0..T'-1</c> the first clip, <c>T'..2T'-1</c> the second). A
/// <see cref="Models.ClipPairEncoder"/> splits them again and embeds both; <see cref="Losses.ClipContrastiveLoss"/> trains on them.
/// Typical views: a <see cref="Compose"/> of <see cref="TemporalSampling.RandomOffset"/> (two windows at different
/// start frames) and <see cref="PerClip"/> crops/flips (consistent within a clip, independent between the two clips).
/// </summary>
public sealed class ClipPairs : ISampleTransform
{
    /// <summary>Wraps a clip transform.</summary>
    /// <param name="view">The random transform of one clip <c>[T, C, H, W]</c> to a clip <c>[T', C, H', W']</c> of a fixed shape.</param>
    /// <exception cref="ArgumentException"><paramref name="view"/> draws no random numbers (the two clips would be identical).</exception>
    public ClipPairs(ISampleTransform view)
    {
        ArgumentNullException.ThrowIfNull(view);
        View = view.IsRandom ? view : throw new ArgumentException("The view transform must be random (IsRandom), or both clips of a pair would be the same.", nameof(view));
    }

    /// <summary>The transform that makes one clip of a pair.</summary>
    public ISampleTransform View { get; }

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        ClipShape.Of(sample, nameof(ClipPairs));
        var first = OneView(sample, new SampleRandom(random.NextUInt64()), 0);
        var second = OneView(sample, new SampleRandom(random.NextUInt64()), 1);
        if (!first.Shape.AsSpan().SequenceEqual(second.Shape))
        {
            throw new InvalidOperationException($"{View.GetType().Name} gave the two clips of a pair different shapes, {DataShape.Format(first.Shape)} and {DataShape.Format(second.Shape)}.");
        }

        var values = new float[first.Values.Length + second.Values.Length];
        first.Values.CopyTo(values, 0);
        second.Values.CopyTo(values, first.Values.Length);
        var shape = first.Shape.ToArray();
        shape[0] *= 2;
        return sample.With(values, shape);
    }

    private DataSample OneView(DataSample sample, SampleRandom random, int which)
    {
        // Each view gets its own copy: a transform may change its sample in place.
        var copy = new DataSample(sample.Values.ToArray(), sample.Shape.ToArray(), sample.Label);
        var result = View.Apply(copy, random) ?? throw new InvalidOperationException($"{View.GetType().Name} returned null for clip {which} of a pair.");
        return result.Shape.Length == 4
            ? result
            : throw new InvalidOperationException($"{View.GetType().Name} must return clips [frames, channels, height, width]; got {DataShape.Format(result.Shape)} for clip {which} of a pair.");
    }
}
