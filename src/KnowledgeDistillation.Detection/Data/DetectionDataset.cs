namespace KnowledgeDistillation.Detection.Data;

/// <summary>A detection dataset: images with boxes, the class names, and what the reader repaired or skipped.</summary>
public sealed class DetectionDataset
{
    /// <summary>Creates a dataset.</summary>
    /// <param name="classes">Class names; objects refer to them by index.</param>
    /// <param name="samples">The samples.</param>
    /// <param name="issues">What the reader repaired or skipped (clipped boxes, dropped degenerate boxes, skipped files).</param>
    /// <exception cref="ArgumentException">No classes, or an object refers to a class outside them.</exception>
    public DetectionDataset(IReadOnlyList<string> classes, IReadOnlyList<DetectionSample> samples, IReadOnlyList<AnnotationIssue>? issues = null)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(samples);
        if (classes.Count == 0)
        {
            throw new ArgumentException("A detection dataset needs at least one class name.", nameof(classes));
        }

        foreach (var sample in samples)
        {
            foreach (var o in sample.Objects)
            {
                if (o.ClassIndex < 0 || o.ClassIndex >= classes.Count)
                {
                    throw new ArgumentException($"An object of '{sample.ImagePath}' has class index {o.ClassIndex}; expected 0..{classes.Count - 1}.", nameof(samples));
                }
            }
        }

        Classes = classes;
        Samples = samples;
        Issues = issues ?? Array.Empty<AnnotationIssue>();
    }

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The samples.</summary>
    public IReadOnlyList<DetectionSample> Samples { get; }

    /// <summary>What the reader repaired or skipped.</summary>
    public IReadOnlyList<AnnotationIssue> Issues { get; }

    /// <summary>The number of images.</summary>
    public int Count => Samples.Count;

    /// <summary>How many (non-difficult) objects of each class the dataset holds.</summary>
    public long[] ClassCounts()
    {
        var counts = new long[Classes.Count];
        foreach (var o in Samples.SelectMany(s => s.Objects).Where(o => !o.Difficult))
        {
            counts[o.ClassIndex]++;
        }

        return counts;
    }

    /// <summary>
    /// A copy without the images that cannot be decoded (missing, corrupt or cut files), each recorded in
    /// <see cref="Issues"/>: the documented way to skip bad images before training instead of failing in the middle of an epoch.
    /// </summary>
    public DetectionDataset WithoutUnreadableImages()
    {
        var issues = Issues.ToList();
        var kept = new List<DetectionSample>(Samples.Count);
        foreach (var sample in Samples)
        {
            try
            {
                DetectionImageDecoder.DecodeRgb(sample.ImagePath, 1, 1);
                kept.Add(sample);
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
            {
                issues.Add(new AnnotationIssue(sample.ImagePath, "skipped an unreadable image: " + e.Message));
            }
        }

        return new DetectionDataset(Classes, kept, issues);
    }

    /// <summary>The first <paramref name="count"/> samples (for smoke runs).</summary>
    /// <param name="count">How many samples to keep (&gt;= 1).</param>
    public DetectionDataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return new DetectionDataset(Classes, Samples.Take(count).ToArray(), Issues);
    }
}
