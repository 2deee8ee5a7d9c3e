using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Data;

/// <summary>
/// An in-memory dataset: an input tensor and an optional target tensor sharing the first dimension.
/// The tensors stay where they are (CPU or CUDA); a dataset placed on the training device avoids a
/// host-to-device copy per batch. The dataset owns the tensors and disposes them.
/// </summary>
public sealed class TensorDataset : IDisposable
{
    /// <summary>Creates a dataset.</summary>
    /// <param name="inputs">Inputs; the first dimension indexes samples.</param>
    /// <param name="targets">Targets with the same first dimension, or <c>null</c>. Integer targets are class labels and must be &gt;= 0.</param>
    /// <exception cref="ArgumentException">The dataset is empty, the sizes disagree, or a class label is negative.</exception>
    public TensorDataset(Tensor inputs, Tensor? targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() == 0 || inputs.shape[0] == 0)
        {
            throw new ArgumentException("The dataset is empty: inputs need at least one sample along dimension 0.", nameof(inputs));
        }

        if (targets is not null)
        {
            if (targets.dim() == 0 || targets.shape[0] != inputs.shape[0])
            {
                throw new ArgumentException(
                    $"Targets must have {inputs.shape[0]} rows to match the inputs; got shape {Guard.Shape(targets)}.",
                    nameof(targets));
            }

            if (IsClassLabel(targets))
            {
                var min = ToInt64(targets.min());
                if (min < 0)
                {
                    throw new ArgumentException($"Class labels must be >= 0; found {min}.", nameof(targets));
                }

                ClassCount = checked((int)ToInt64(targets.max()) + 1);
            }
        }

        Inputs = inputs;
        Targets = targets;
    }

    /// <summary>The inputs.</summary>
    public Tensor Inputs { get; }

    /// <summary>The targets, or <c>null</c>.</summary>
    public Tensor? Targets { get; }

    /// <summary>The number of samples.</summary>
    public long Count => Inputs.shape[0];

    /// <summary>Largest class label + 1 for integer targets; <c>null</c> otherwise.</summary>
    public int? ClassCount { get; }

    /// <summary>Returns a dataset with the first <paramref name="count"/> samples (a view; shares storage).</summary>
    /// <param name="count">How many samples to keep, 1..<see cref="Count"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is out of range.</exception>
    public TensorDataset Take(long count)
    {
        if (count < 1 || count > Count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Expected 1..{Count}.");
        }

        return new TensorDataset(Inputs.narrow(0, 0, count), Targets?.narrow(0, 0, count));
    }

    /// <summary>Returns a copy of the dataset on <paramref name="device"/>.</summary>
    /// <param name="device">The target device.</param>
    public TensorDataset To(Device device) => new(Inputs.to(device), Targets?.to(device));

    /// <inheritdoc />
    public void Dispose()
    {
        Inputs.Dispose();
        Targets?.Dispose();
    }

    /// <summary>Reads a scalar of any integer dtype (item&lt;long&gt; alone accepts only int64) and disposes it.</summary>
    private static long ToInt64(Tensor scalar)
    {
        using (scalar)
        using (var wide = scalar.to(ScalarType.Int64))
        {
            return wide.item<long>();
        }
    }

    private static bool IsClassLabel(Tensor targets) =>
        targets.dim() == 1 && targets.dtype is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte;
}
