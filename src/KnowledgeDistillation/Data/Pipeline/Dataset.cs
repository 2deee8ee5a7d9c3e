namespace KnowledgeDistillation.Data;

/// <summary>Builds <see cref="IDataset"/>s from a user's own data.</summary>
public static class Dataset
{
    /// <summary>
    /// A dataset whose samples are produced on demand by <paramref name="read"/> (from files, a database, or
    /// generated); nothing is held in memory. <paramref name="read"/> is called from the pipeline's worker threads,
    /// so it must be thread-safe, and must return the same sample for the same index every time.
    /// </summary>
    /// <param name="count">The number of samples, &gt;= 1.</param>
    /// <param name="read">Reads sample <c>i</c> (0..count-1) and returns a new <see cref="DataSample"/>.</param>
    /// <param name="classCount">The number of classes when samples carry labels, or <c>null</c>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> or <paramref name="classCount"/> is below 1.</exception>
    public static IDataset FromFunction(long count, Func<long, DataSample> read, int? classCount = null)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The sample count must be >= 1.");
        }

        if (classCount is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "The class count must be null or >= 1.");
        }

        return new FunctionDataset(count, read, classCount);
    }

    /// <summary>
    /// A dataset over the samples of <paramref name="samples"/>, enumerated once and kept in memory (as their
    /// float32 values). For data that does not fit in memory, use <see cref="FromFunction"/> or implement
    /// <see cref="IDataset"/>. The class count is the largest label + 1 when every sample has a label.
    /// </summary>
    /// <param name="samples">The samples; all must share one shape and either all or none carry a label.</param>
    /// <exception cref="ArgumentException">The sequence is empty, shapes differ, or only some samples have labels.</exception>
    public static IDataset FromEnumerable(IEnumerable<DataSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var list = new List<DataSample>();
        long maxLabel = -1;
        foreach (var sample in samples)
        {
            ArgumentNullException.ThrowIfNull(sample, nameof(samples));
            if (list.Count > 0)
            {
                var first = list[0];
                if (!first.Shape.AsSpan().SequenceEqual(sample.Shape))
                {
                    throw new ArgumentException(
                        $"Sample {list.Count} has shape {DataShape.Format(sample.Shape)}, but sample 0 has " +
                        $"{DataShape.Format(first.Shape)}; every sample must have the same shape.", nameof(samples));
                }

                if (first.Label.HasValue != sample.Label.HasValue)
                {
                    throw new ArgumentException(
                        $"Sample {list.Count} {(sample.Label.HasValue ? "has" : "has no")} label, but sample 0 {(first.Label.HasValue ? "has" : "has no")} label; " +
                        "either every sample has a label or none does.", nameof(samples));
                }
            }

            maxLabel = Math.Max(maxLabel, sample.Label ?? -1);
            list.Add(sample);
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("The sequence has no samples.", nameof(samples));
        }

        int? classes = list[0].Label.HasValue ? checked((int)maxLabel + 1) : null;
        return new FunctionDataset(list.Count, i => Copy(list[(int)i]), classes);
    }

    private static DataSample Copy(DataSample sample) => new((float[])sample.Values.Clone(), sample.Shape, sample.Label);

    private sealed class FunctionDataset(long count, Func<long, DataSample> read, int? classCount) : IDataset
    {
        public long Count => count;

        public int? ClassCount => classCount;

        public DataSample Get(long index)
        {
            if (index < 0 || index >= count)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"Expected 0..{count - 1}.");
            }

            return read(index) ?? throw new InvalidOperationException($"The dataset's read function returned null for sample {index}.");
        }
    }
}
