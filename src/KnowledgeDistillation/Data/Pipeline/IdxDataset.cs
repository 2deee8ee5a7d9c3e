namespace KnowledgeDistillation.Data;

/// <summary>
/// A dataset over an IDX input file and an optional IDX label file (MNIST, Fashion-MNIST, KMNIST and the like; plain or
/// <c>.gz</c>), read once with <see cref="IdxReader"/> and kept in memory in the file's element type (1 byte per
/// pixel for MNIST-style files, a quarter of float32). Samples are float32; a file of shape <c>[N, H, W]</c> gives
/// images <c>[1, H, W]</c>, any other <c>[N, ...]</c> gives samples of shape <c>[...]</c>.
/// </summary>
public sealed class IdxDataset : IDataset
{
    private readonly IdxArray _inputs;
    private readonly byte[]? _labels;
    private readonly int[] _sampleShape;
    private readonly int _sampleLength;
    private readonly bool _scale;

    /// <summary>Reads the files.</summary>
    /// <param name="inputsPath">The IDX file of inputs, <c>[N, ...]</c> with N &gt;= 1.</param>
    /// <param name="labelsPath">The IDX file of UInt8 class labels <c>[N]</c>, or <c>null</c> for unlabelled data.</param>
    /// <param name="scaleBytes">Divide UInt8 inputs by 255 (default true), so pixels are in [0, 1].</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">A file is malformed, the label file is not UInt8 <c>[N]</c>, or the counts disagree (the message names the file).</exception>
    public IdxDataset(string inputsPath, string? labelsPath = null, bool scaleBytes = true)
        : this(IdxReader.Read(inputsPath), inputsPath, labelsPath is null ? null : IdxReader.Read(labelsPath), labelsPath, scaleBytes)
    {
    }

    /// <summary>Wraps parsed IDX arrays.</summary>
    /// <param name="inputs">The inputs, <c>[N, ...]</c>.</param>
    /// <param name="labels">UInt8 class labels <c>[N]</c>, or <c>null</c>.</param>
    /// <param name="scaleBytes">Divide UInt8 inputs by 255 (default true).</param>
    /// <exception cref="InvalidDataException">The shapes or the label type are wrong.</exception>
    public IdxDataset(IdxArray inputs, IdxArray? labels = null, bool scaleBytes = true)
        : this(inputs, "inputs", labels, "labels", scaleBytes)
    {
    }

    private IdxDataset(IdxArray inputs, string inputsName, IdxArray? labels, string? labelsName, bool scaleBytes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Shape.Count < 2 || inputs.Shape[0] < 1)
        {
            throw new InvalidDataException(
                $"IDX inputs '{inputsName}' must have shape [N, ...] with N >= 1 and at least one sample dimension; got {DataShape.Format(inputs.Shape)}.");
        }

        _inputs = inputs;
        _sampleShape = inputs.Shape.Count == 3 ? [1, inputs.Shape[1], inputs.Shape[2]] : inputs.Shape.Skip(1).ToArray();
        _sampleLength = checked((int)DataShape.Elements(_sampleShape));
        _scale = scaleBytes && inputs.ElementType == IdxElementType.UInt8;
        if (labels is not null)
        {
            if (labels.ElementType != IdxElementType.UInt8 || labels.Shape.Count != 1 || labels.Shape[0] != inputs.Shape[0])
            {
                throw new InvalidDataException(
                    $"IDX labels '{labelsName}' must be UInt8 of shape [{inputs.Shape[0]}] to match '{inputsName}'; got {labels.ElementType} {DataShape.Format(labels.Shape)}.");
            }

            _labels = labels.Bytes.ToArray();
            ClassCount = _labels.Max() + 1;
        }
    }

    /// <inheritdoc />
    public long Count => _inputs.Shape[0];

    /// <inheritdoc />
    public int? ClassCount { get; }

    /// <summary>The shape of one sample.</summary>
    public IReadOnlyList<int> SampleShape => _sampleShape;

    /// <inheritdoc />
    public DataSample Get(long index)
    {
        if (index < 0 || index >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Expected 0..{Count - 1}.");
        }

        var values = new float[_sampleLength];
        var start = (int)index * _sampleLength;
        switch (_inputs.ElementType)
        {
            case IdxElementType.UInt8:
                Convert(_inputs.GetElements<byte>().Span.Slice(start, _sampleLength), values, static v => v);
                break;
            case IdxElementType.Int8:
                Convert(_inputs.GetElements<sbyte>().Span.Slice(start, _sampleLength), values, static v => v);
                break;
            case IdxElementType.Int16:
                Convert(_inputs.GetElements<short>().Span.Slice(start, _sampleLength), values, static v => v);
                break;
            case IdxElementType.Int32:
                Convert(_inputs.GetElements<int>().Span.Slice(start, _sampleLength), values, static v => v);
                break;
            case IdxElementType.Float32:
                _inputs.GetElements<float>().Span.Slice(start, _sampleLength).CopyTo(values);
                break;
            default:
                Convert(_inputs.GetElements<double>().Span.Slice(start, _sampleLength), values, static v => (float)v);
                break;
        }

        if (_scale)
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] /= 255f;
            }
        }

        return new DataSample(values, (int[])_sampleShape.Clone(), _labels is null ? null : _labels[index]);
    }

    private static void Convert<T>(ReadOnlySpan<T> source, float[] target, Func<T, float> convert)
    {
        for (var i = 0; i < source.Length; i++)
        {
            target[i] = convert(source[i]);
        }
    }
}
