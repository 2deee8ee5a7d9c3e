using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>The value of a loss for one batch: the scalar to minimise and named parts for logging.</summary>
public sealed class LossResult
{
    /// <summary>Creates a result whose only part is the total itself, reported under <paramref name="name"/>.</summary>
    /// <param name="name">The part name (usually the loss's <see cref="IDistillationLoss.Name"/>).</param>
    /// <param name="total">A scalar tensor.</param>
    public LossResult(string name, Tensor total)
        : this(total, new Dictionary<string, Tensor> { [name] = total })
    {
    }

    /// <summary>Creates a result with explicit parts.</summary>
    /// <param name="total">A scalar tensor: the value to minimise.</param>
    /// <param name="parts">Named values for logging. They need not add up to <paramref name="total"/> (a loss may report diagnostics).</param>
    /// <exception cref="ArgumentException"><paramref name="total"/> is not a scalar.</exception>
    public LossResult(Tensor total, IReadOnlyDictionary<string, Tensor> parts)
    {
        ArgumentNullException.ThrowIfNull(total);
        ArgumentNullException.ThrowIfNull(parts);
        if (total.numel() != 1)
        {
            throw new ArgumentException(
                $"A loss total must be a scalar tensor; got shape {Guard.Shape(total)}.", nameof(total));
        }

        Total = total;
        Parts = parts;
    }

    /// <summary>The scalar to minimise.</summary>
    public Tensor Total { get; }

    /// <summary>Named values for logging (unweighted values of the leaf losses, plus any diagnostics).</summary>
    public IReadOnlyDictionary<string, Tensor> Parts { get; }
}
