using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// Turns clips <c>[T, C, H, W]</c> into a self-supervised task's inputs and labels (<see cref="VideoPretextTask"/>): a random
/// transform (drawn from the sample's stream, so a new variant every epoch, reproducible per seed) that replaces the clip's class
/// label with the pretext label. Wrap the clip dataset with <see cref="Labels"/> so the pipeline knows the task's class count. A
/// network trained on the task becomes a classifier by <see cref="TransferBackbone"/> into a fresh network and fine-tuning.
/// </summary>
public sealed class VideoPretext : ISampleTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="task">The task.</param>
    /// <exception cref="ArgumentOutOfRangeException">An unknown task.</exception>
    public VideoPretext(VideoPretextTask task) =>
        Task = Enum.IsDefined(task) ? task : throw new ArgumentOutOfRangeException(nameof(task), task, "Unknown pretext task.");

    /// <summary>The task.</summary>
    public VideoPretextTask Task { get; }

    /// <summary>The task's class count (2, or 4 for rotation).</summary>
    public int ClassCount => ClassesOf(Task);

    /// <inheritdoc />
    public bool IsRandom => true;

    /// <summary>The class count of <paramref name="task"/>.</summary>
    /// <param name="task">The task.</param>
    public static int ClassesOf(VideoPretextTask task) => task == VideoPretextTask.Rotation ? 4 : 2;

    /// <summary>The clips with the task's class count (labels come from the transform), for a <see cref="DataPipeline"/>.</summary>
    /// <param name="clips">The clip dataset.</param>
    /// <param name="task">The task.</param>
    public static IDataset Labels(IDataset clips, VideoPretextTask task)
    {
        ArgumentNullException.ThrowIfNull(clips);
        return Dataset.FromFunction(clips.Count, i => clips.Get(i), ClassesOf(task));
    }

    /// <summary>
    /// Copies every parameter and buffer of <paramref name="source"/> into the entry of the same name and shape in
    /// <paramref name="target"/>, except those under <paramref name="head"/> (the task's classifier), and returns the names copied.
    /// </summary>
    /// <param name="source">The network trained on the pretext task.</param>
    /// <param name="target">A fresh network of the same architecture for the target classes.</param>
    /// <param name="head">The classifier's submodule name (default "classifier").</param>
    /// <exception cref="ArgumentException">An entry of the backbone is missing in the target or has another shape.</exception>
    public static IReadOnlyList<string> TransferBackbone(nn.Module source, nn.Module target, string head = "classifier")
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var targetState = target.state_dict();
        var copied = new List<string>();
        using var noGrad = no_grad();
        foreach (var (name, value) in source.state_dict())
        {
            if (name == head || name.StartsWith(head + ".", StringComparison.Ordinal))
            {
                continue;
            }

            if (!targetState.TryGetValue(name, out var into) || !into.shape.SequenceEqual(value.shape))
            {
                throw new ArgumentException($"The target network has no entry '{name}' of shape {Guard.Shape(value)}; transfer between networks of one architecture.", nameof(target));
            }

            into.copy_(value);
            copied.Add(name);
        }

        return copied;
    }

    /// <inheritdoc />
    public DataSample Apply(DataSample sample, SampleRandom random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (frames, c, h, w) = ClipShape.Of(sample, nameof(VideoPretext));
        var frame = c * h * w;
        int[] order;
        long label;
        switch (Task)
        {
            case VideoPretextTask.FrameOrder:
                label = frames < 2 || random.NextDouble() < 0.5 ? 1 : 0;
                order = Enumerable.Range(0, frames).ToArray();
                if (label == 0)
                {
                    while (order.Select((o, i) => o == i).All(x => x))
                    {
                        for (var i = frames - 1; i > 0; i--)
                        {
                            var j = random.NextInt(i + 1);
                            (order[i], order[j]) = (order[j], order[i]);
                        }
                    }
                }

                return new DataSample(Reorder(sample.Values, order, frame), sample.Shape.ToArray(), label);
            case VideoPretextTask.TemporalCoherence:
                label = frames < 4 || random.NextDouble() < 0.5 ? 1 : 0;
                order = Enumerable.Range(0, frames).ToArray();
                if (label == 0)
                {
                    var cut = 1 + random.NextInt(frames - 2);
                    var jump = 2 + random.NextInt(frames - 3);
                    for (var i = cut; i < frames; i++)
                    {
                        order[i] = (i + jump) % frames;
                    }
                }

                return new DataSample(Reorder(sample.Values, order, frame), sample.Shape.ToArray(), label);
            default:
                if (h != w)
                {
                    throw new ArgumentException($"Rotation needs square frames; got {DataShape.Format(sample.Shape)}.", nameof(sample));
                }

                label = random.NextInt(4);
                return new DataSample(Rotate(sample.Values, frames * c, h, (int)label), sample.Shape.ToArray(), label);
        }
    }

    private static float[] Reorder(float[] values, int[] order, int frame)
    {
        var result = new float[values.Length];
        for (var i = 0; i < order.Length; i++)
        {
            values.AsSpan(order[i] * frame, frame).CopyTo(result.AsSpan(i * frame, frame));
        }

        return result;
    }

    private static float[] Rotate(float[] values, int planes, int n, int quarterTurns)
    {
        var result = new float[values.Length];
        for (var p = 0; p < planes; p++)
        {
            var o = p * n * n;
            for (var y = 0; y < n; y++)
            {
                for (var x = 0; x < n; x++)
                {
                    // Counter-clockwise quarter turns (numpy.rot90 on the (H, W) axes).
                    var (sy, sx) = quarterTurns switch
                    {
                        0 => (y, x),
                        1 => (x, n - 1 - y),
                        2 => (n - 1 - y, n - 1 - x),
                        _ => (n - 1 - x, y),
                    };
                    result[o + (y * n) + x] = values[o + (sy * n) + sx];
                }
            }
        }

        return result;
    }
}
