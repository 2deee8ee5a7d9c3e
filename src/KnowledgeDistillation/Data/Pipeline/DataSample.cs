namespace KnowledgeDistillation.Data;

/// <summary>
/// One sample on the host: its input values (float32, row-major) with their shape, and an optional class label.
/// A dataset returns a new sample on every <see cref="IDataset.Get"/> call; the pipeline owns it, so transforms
/// may change <see cref="Values"/> in place or return a new sample.
/// </summary>
public sealed class DataSample
{
    /// <summary>Creates a sample.</summary>
    /// <param name="values">The input values in row-major order (for images: channels, rows, columns).</param>
    /// <param name="shape">The input's shape (for images <c>[C, H, W]</c>); its product must equal the value count.</param>
    /// <param name="label">The class label (&gt;= 0), or <c>null</c> for unlabelled data.</param>
    /// <exception cref="ArgumentException">The shape is empty, has a dimension below 1, or does not match the value count; or the label is negative.</exception>
    public DataSample(float[] values, int[] shape, long? label = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0)
        {
            throw new ArgumentException("A sample's shape needs at least one dimension.", nameof(shape));
        }

        long count = 1;
        foreach (var d in shape)
        {
            if (d < 1)
            {
                throw new ArgumentException($"A sample's dimensions must be >= 1; got {DataShape.Format(shape)}.", nameof(shape));
            }

            count *= d;
        }

        if (count != values.LongLength)
        {
            throw new ArgumentException(
                $"A sample of shape {DataShape.Format(shape)} needs {count} values; got {values.LongLength}.", nameof(values));
        }

        if (label is < 0)
        {
            throw new ArgumentException($"A class label must be >= 0; got {label}.", nameof(label));
        }

        Values = values;
        Shape = shape;
        Label = label;
    }

    /// <summary>The input values, row-major.</summary>
    public float[] Values { get; }

    /// <summary>The input's shape (for images <c>[C, H, W]</c>).</summary>
    public int[] Shape { get; }

    /// <summary>The class label, or <c>null</c>.</summary>
    public long? Label { get; }

    /// <summary>Returns a sample with the same label and new values and shape.</summary>
    /// <param name="values">The new values.</param>
    /// <param name="shape">Their shape.</param>
    public DataSample With(float[] values, int[] shape) => new(values, shape, Label);
}
