namespace KnowledgeDistillation.Data;

/// <summary>
/// Makes two independently augmented views of each sample (SimCLR, MoCo): the augmentation runs twice on copies of the
/// sample, each time with its own random stream derived from the sample's stream, and the views are stacked into one sample
/// <c>[2, ...]</c>. The views are therefore a pure function of (seed, epoch, sample index), like every other transform.
/// <see cref="TwoViews"/> splits the batch <c>[B, 2, ...]</c> back into the views for the participants.
/// </summary>
public sealed class TwoViewTransform : ISampleTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="augmentation">The augmentation applied to each view (e.g. a <see cref="Compose"/> of <see cref="RandomResizedCrop"/>,
    /// <see cref="RandomHorizontalFlip"/>, <see cref="IntensityJitter"/>, <see cref="RandomGaussianBlur"/>).</param>
    /// <param name="secondAugmentation">The second view's augmentation; <c>null</c>: the same as the first's (asymmetric recipes such as BYOL's pass two).</param>
    public TwoViewTransform(ISampleTransform augmentation, ISampleTransform? secondAugmentation = null)
    {
        First = augmentation ?? throw new ArgumentNullException(nameof(augmentation));
        Second = secondAugmentation ?? augmentation;
    }

    /// <summary>The first view's augmentation.</summary>
    public ISampleTransform First { get; }

    /// <summary>The second view's augmentation.</summary>
    public ISampleTransform Second { get; }

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The two views came out with different shapes (the augmentations must produce one size).</exception>
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(random);
        var firstRandom = new SampleRandom(random.NextUInt64());
        var secondRandom = new SampleRandom(random.NextUInt64());
        var a = First.Apply(new DataSample((float[])sample.Values.Clone(), (int[])sample.Shape.Clone(), sample.Label), firstRandom);
        var b = Second.Apply(new DataSample((float[])sample.Values.Clone(), (int[])sample.Shape.Clone(), sample.Label), secondRandom);
        if (!a.Shape.SequenceEqual(b.Shape))
        {
            throw new InvalidOperationException(
                $"The two views have different shapes, {DataShape.Format(a.Shape)} and {DataShape.Format(b.Shape)}: both augmentations must produce one size (give the crops one output size).");
        }

        var values = new float[a.Values.Length * 2];
        a.Values.CopyTo(values, 0);
        b.Values.CopyTo(values, a.Values.Length);
        return sample.With(values, a.Shape.Prepend(2).ToArray());
    }
}
