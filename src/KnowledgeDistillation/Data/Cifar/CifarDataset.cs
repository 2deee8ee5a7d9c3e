using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// A CIFAR split as an <see cref="IDataset"/>: samples float32 <c>[3, 32, 32]</c> with pixels scaled to [0, 1]
/// (add <see cref="Normalize"/> with <see cref="Cifar.Cifar10Mean"/>/<see cref="Cifar.Cifar10Std"/> or the CIFAR-100
/// values as a transform), labels CIFAR-10's class, or CIFAR-100's fine (or coarse) class. The pixels are held as
/// bytes (3 KB per image); <see cref="ToTensorDataset"/> makes an in-memory <see cref="TensorDataset"/> for <see cref="DataLoader"/>.
/// </summary>
public sealed class CifarDataset : IDataset
{
    private readonly CifarArray _records;
    private readonly byte[] _labels;

    /// <summary>Wraps parsed records.</summary>
    /// <param name="records">The records (see <see cref="CifarReader"/>).</param>
    /// <param name="coarseLabels">For CIFAR-100, label samples with the 20 coarse classes instead of the 100 fine ones.</param>
    /// <exception cref="ArgumentException"><paramref name="coarseLabels"/> is set for CIFAR-10.</exception>
    public CifarDataset(CifarArray records, bool coarseLabels = false)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (coarseLabels && records.Variant != CifarVariant.Cifar100)
        {
            throw new ArgumentException("Coarse labels exist only in CIFAR-100.", nameof(coarseLabels));
        }

        _records = records;
        _labels = coarseLabels ? records.CoarseLabelArray! : records.LabelArray;
        ClassCount = coarseLabels ? 20 : CifarReader.ClassCount(records.Variant);
    }

    /// <summary>The records.</summary>
    public CifarArray Records => _records;

    /// <inheritdoc />
    public long Count => _labels.Length;

    /// <inheritdoc />
    public int? ClassCount { get; }

    /// <inheritdoc />
    public DataSample Get(long index)
    {
        if (index < 0 || index >= Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Expected 0..{Count - 1}.");
        }

        var values = new float[CifarReader.ImageBytes];
        var pixels = _records.PixelArray.AsSpan((int)index * CifarReader.ImageBytes, CifarReader.ImageBytes);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = pixels[i] / 255f;
        }

        return new DataSample(values, [3, 32, 32], _labels[index]);
    }

    /// <summary>
    /// Copies the split into a CPU <see cref="TensorDataset"/>: inputs float32 <c>[N, 3, 32, 32]</c> scaled to [0, 1], then
    /// standardised per channel when <paramref name="mean"/> and <paramref name="std"/> are given; targets int64 <c>[N]</c>.
    /// </summary>
    /// <param name="mean">Per-channel means (3 values), or <c>null</c> to keep [0, 1].</param>
    /// <param name="std">Per-channel standard deviations (3 values, &gt; 0), with <paramref name="mean"/>.</param>
    /// <returns>A new dataset the caller owns.</returns>
    /// <exception cref="ArgumentException">Only one of mean and std is given, or they do not have 3 values.</exception>
    public TensorDataset ToTensorDataset(IReadOnlyList<double>? mean = null, IReadOnlyList<double>? std = null)
    {
        if ((mean is null) != (std is null) || (mean is not null && (mean.Count != 3 || std!.Count != 3)))
        {
            throw new ArgumentException("Give both mean and std with 3 values each (one per RGB channel), or neither.", nameof(std));
        }

        var n = _labels.Length;
        Tensor? inputs = null;
        try
        {
            using (var raw = tensor(_records.PixelArray, [n, 3, 32, 32]))
            {
                inputs = raw.to(ScalarType.Float32);
            }

            inputs.div_(255.0);
            if (mean is not null)
            {
                using var m = tensor(mean.Select(v => (float)v).ToArray(), [1, 3, 1, 1]);
                using var s = tensor(std!.Select(v => (float)Guard.Positive(v, nameof(std))).ToArray(), [1, 3, 1, 1]);
                inputs.sub_(m).div_(s);
            }

            var targets = tensor(_labels.Select(l => (long)l).ToArray(), dtype: ScalarType.Int64);
            return new TensorDataset(inputs, targets);
        }
        catch
        {
            inputs?.Dispose();
            throw;
        }
    }
}
