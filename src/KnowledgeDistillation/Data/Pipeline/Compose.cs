namespace KnowledgeDistillation.Data;

/// <summary>Applies several transforms in order, as one (torchvision's <c>Compose</c>).</summary>
public sealed class Compose : ISampleTransform
{
    private readonly ISampleTransform[] _transforms;

    /// <summary>Creates the composition.</summary>
    /// <param name="transforms">The transforms, applied first to last.</param>
    /// <exception cref="ArgumentException">A transform is <c>null</c>.</exception>
    public Compose(params ISampleTransform[] transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        if (transforms.Any(t => t is null))
        {
            throw new ArgumentException("Compose was given a null transform.", nameof(transforms));
        }

        _transforms = (ISampleTransform[])transforms.Clone();
    }

    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<ISampleTransform> Transforms => _transforms;

    /// <inheritdoc />
    public bool IsRandom => _transforms.Any(t => t.IsRandom);

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        foreach (var transform in _transforms)
        {
            sample = transform.Apply(sample, random) ?? throw new InvalidOperationException($"Transform {transform.GetType().Name} returned null.");
        }

        return sample;
    }
}
