using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>Argument checks shared by the sample stores (run before any native indexing).</summary>
internal static class SampleStoreChecks
{
    public static long Count(long sampleCount) =>
        sampleCount >= 1 ? sampleCount : throw new ArgumentOutOfRangeException(nameof(sampleCount), sampleCount, "The sample count must be >= 1.");

    public static IReadOnlyList<SampleField> Fields(IReadOnlyList<SampleField>? existing, IReadOnlyList<SampleField> fields, string where)
    {
        ArgumentNullException.ThrowIfNull(fields);
        if (fields.Count == 0 || fields.Any(f => f is null))
        {
            throw new ArgumentException("A sample store needs at least one field and no null fields.", nameof(fields));
        }

        if (fields.Select(f => f.Name).Distinct(StringComparer.Ordinal).Count() != fields.Count)
        {
            throw new ArgumentException("Sample field names must be unique.", nameof(fields));
        }

        if (existing is not null && (existing.Count != fields.Count || existing.Zip(fields).Any(p => !p.First.SameAs(p.Second))))
        {
            throw new InvalidOperationException(
                $"{where} holds [{string.Join("; ", existing)}], but was asked for [{string.Join("; ", fields)}].");
        }

        return fields.ToArray();
    }

    /// <summary>Checks the indices (one host read of their range) and returns them as int64.</summary>
    public static Tensor Indices(Tensor indices, long sampleCount)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.dim() != 1 || indices.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"Sample indices must be an int64 vector; got {indices.dtype} of shape {Guard.Shape(indices)}.", nameof(indices));
        }

        if (indices.numel() > 0)
        {
            var outside = indices.lt(0).logical_or(indices.ge(sampleCount));
            if (outside.any().item<bool>())
            {
                var first = indices.masked_select(outside)[0].item<long>();
                throw new ArgumentException($"Sample index {first} is outside the store's 0..{sampleCount - 1}; the store was sized for other data.", nameof(indices));
            }
        }

        return indices;
    }

    public static void Rows(IReadOnlyList<SampleField> fields, Tensor indices, IReadOnlyList<Tensor> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count != fields.Count)
        {
            throw new ArgumentException($"Expected {fields.Count} row tensor(s), one per field; got {rows.Count}.", nameof(rows));
        }

        for (var f = 0; f < fields.Count; f++)
        {
            var expected = fields[f].RowShape.Prepend(indices.shape[0]).ToArray();
            if (rows[f] is null || !rows[f].shape.SequenceEqual(expected))
            {
                throw new ArgumentException(
                    $"Rows of field '{fields[f].Name}' must have shape {Guard.FormatShape(expected)}; got {(rows[f] is null ? "null" : Guard.Shape(rows[f]))}.",
                    nameof(rows));
            }
        }
    }
}
