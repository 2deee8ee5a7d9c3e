using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Data;

/// <summary>
/// Batches of a <see cref="DetectionDataset"/> for <c>Distiller.Fit</c>: each image is decoded, resized so its longer side
/// is <see cref="DetectionBatchOptions.ImageSize"/> (times a scale-jitter factor) keeping the aspect ratio, optionally
/// flipped, normalised, and padded bottom-right to the batch's common size (a multiple of
/// <see cref="DetectionBatchOptions.PadMultiple"/>); boxes follow every step. The order and every random draw are pure
/// functions of (seed, epoch, sample index), so runs repeat and resume exactly. Layout: <see cref="DetectionTargets"/>.
/// </summary>
public sealed class DetectionBatchSource : IBatchSource
{
    private readonly DetectionDataset _dataset;
    private readonly DetectionBatchOptions _options;

    /// <summary>Creates the source.</summary>
    /// <param name="dataset">The images and boxes.</param>
    /// <param name="options">Options; <c>null</c> for the defaults.</param>
    /// <exception cref="ArgumentException">The dataset is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public DetectionBatchSource(DetectionDataset dataset, DetectionBatchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Count == 0)
        {
            throw new ArgumentException("The detection dataset has no images.", nameof(dataset));
        }

        _options = options ?? new DetectionBatchOptions();
        _options.Validate();
        _dataset = dataset;
    }

    /// <summary>The dataset.</summary>
    public DetectionDataset Dataset => _dataset;

    /// <summary>The options.</summary>
    public DetectionBatchOptions Options => _options;

    /// <inheritdoc />
    public long SampleCount => _dataset.Count;

    /// <inheritdoc />
    public int BatchCount => (_dataset.Count + _options.BatchSize - 1) / _options.BatchSize;

    /// <inheritdoc />
    public int? ClassCount => null;

    /// <inheritdoc />
    public IEnumerable<Batch> GetBatches(int epoch, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var order = ShuffleOrder.Create(_dataset.Count, _options.Shuffle, (ulong)_options.Seed, epoch);
        for (var start = 0; start < order.Length; start += _options.BatchSize)
        {
            var indices = order.Skip(start).Take(_options.BatchSize).ToArray();
            yield return Build(indices, epoch, device);
        }
    }

    /// <summary>Prepares one image as the source would in <paramref name="epoch"/>: pixels, size and boxes after resizing and augmentation.</summary>
    /// <param name="index">The sample index.</param>
    /// <param name="epoch">The epoch (selects the augmentation draw).</param>
    public PreparedImage Prepare(long index, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _dataset.Count);
        var sample = _dataset.Samples[(int)index];
        var random = SampleRandom.For(_options.Seed, epoch, index);
        var jitter = _options.MinScale + ((_options.MaxScale - _options.MinScale) * random.NextDouble());
        var flip = _options.HorizontalFlip && random.NextDouble() < 0.5;
        var scale = _options.ImageSize * jitter / Math.Max(sample.Width, sample.Height);
        var width = Math.Max(1, (int)Math.Round(sample.Width * scale));
        var height = Math.Max(1, (int)Math.Round(sample.Height * scale));
        var rgb = DetectionImageDecoder.DecodeRgb(sample.ImagePath, width, height);
        var (sx, sy) = ((double)width / sample.Width, (double)height / sample.Height);
        var objects = new List<DetectionObject>(sample.Objects.Count);
        foreach (var o in sample.Objects)
        {
            var b = new BoundingBox(o.Box.X1 * sx, o.Box.Y1 * sy, o.Box.X2 * sx, o.Box.Y2 * sy);
            if (flip)
            {
                b = new BoundingBox(width - b.X2, b.Y1, width - b.X1, b.Y2);
            }

            objects.Add(o with { Box = b });
        }

        if (flip)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width / 2; x++)
                {
                    var (a, c) = (((y * width) + x) * 3, ((y * width) + (width - 1 - x)) * 3);
                    for (var k = 0; k < 3; k++)
                    {
                        (rgb[a + k], rgb[c + k]) = (rgb[c + k], rgb[a + k]);
                    }
                }
            }
        }

        return new PreparedImage(rgb, width, height, scale, flip, objects);
    }

    private Batch Build(long[] indices, int epoch, Device device)
    {
        var images = indices.Select(i => Prepare(i, epoch)).ToArray();
        var m = _options.PadMultiple;
        var padH = (images.Max(p => p.Height) + m - 1) / m * m;
        var padW = (images.Max(p => p.Width) + m - 1) / m * m;
        var g = Math.Max(1, images.Max(p => p.Objects.Count));
        var b = images.Length;
        var pixels = new float[b * 3 * padH * padW];
        var targets = new float[b * g * DetectionTargets.Columns];
        var sizes = new float[b * 2];
        var scales = new float[b];
        for (var i = 0; i < b; i++)
        {
            var p = images[i];
            for (var c = 0; c < 3; c++)
            {
                var (mean, std) = (_options.Mean[c], _options.Std[c]);
                var plane = ((i * 3) + c) * padH * padW;
                for (var y = 0; y < p.Height; y++)
                {
                    for (var x = 0; x < p.Width; x++)
                    {
                        pixels[plane + (y * padW) + x] = ((p.Rgb[(((y * p.Width) + x) * 3) + c] / 255f) - mean) / std;
                    }
                }
            }

            for (var j = 0; j < g; j++)
            {
                var o = ((i * g) + j) * DetectionTargets.Columns;
                if (j >= p.Objects.Count)
                {
                    targets[o] = -1;
                    continue;
                }

                var obj = p.Objects[j];
                (targets[o], targets[o + 1], targets[o + 2], targets[o + 3], targets[o + 4], targets[o + 5]) =
                    (obj.ClassIndex, (float)obj.Box.X1, (float)obj.Box.Y1, (float)obj.Box.X2, (float)obj.Box.Y2, obj.Difficult ? 1 : 0);
            }

            (sizes[2 * i], sizes[(2 * i) + 1], scales[i]) = (p.Height, p.Width, (float)p.Scale);
        }

        var extras = new Dictionary<string, Tensor>
        {
            [DetectionTargets.ImageSize] = tensor(sizes, new long[] { b, 2 }).to(device),
            [DetectionTargets.Scale] = tensor(scales, new long[] { b }).to(device),
        };
        return new Batch(tensor(pixels, new long[] { b, 3, padH, padW }).to(device), tensor(targets, new long[] { b, g, DetectionTargets.Columns }).to(device), tensor(indices).to(device), extras);
    }
}
