using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Convenience base for losses: supports <c>0.9 * kd + 0.1 * ce</c> composition. Implementing
/// <see cref="IDistillationLoss"/> directly works too; wrap such a loss with <see cref="Loss.Of"/> to compose it.
/// </summary>
public abstract class DistillationLoss : IDistillationLoss, IDisposable
{
    /// <summary>Creates the loss with its reporting name.</summary>
    /// <param name="name">The name under which the loss reports its value.</param>
    protected DistillationLoss(string name)
    {
        Name = Guard.Name(name, nameof(name));
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public virtual LossRequirements Requirements => LossRequirements.None;

    /// <inheritdoc />
    public virtual IReadOnlyList<nn.Module> TrainableModules => Array.Empty<nn.Module>();

    /// <inheritdoc />
    public virtual IReadOnlyList<nn.Module> FrozenModules => Array.Empty<nn.Module>();

    /// <inheritdoc />
    public virtual IReadOnlyList<ILossState> State => Array.Empty<ILossState>();

    /// <inheritdoc />
    public abstract LossResult Compute(DistillationContext context);

    /// <inheritdoc />
    public virtual void OnStepEnd(DistillationContext context)
    {
    }

    /// <inheritdoc />
    public virtual void OnEpochEnd(LossEpochInfo epoch)
    {
    }

    /// <summary>Releases what the loss owns (its modules, stores). Safe to call more than once.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources; the default releases nothing.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>Scales a loss by a constant weight.</summary>
    /// <param name="weight">A finite weight &gt;= 0.</param>
    /// <param name="loss">The loss.</param>
    public static DistillationLoss operator *(double weight, DistillationLoss loss) => new WeightedLoss(weight, loss);

    /// <summary>Scales a loss by a constant weight.</summary>
    /// <param name="loss">The loss.</param>
    /// <param name="weight">A finite weight &gt;= 0.</param>
    public static DistillationLoss operator *(DistillationLoss loss, double weight) => new WeightedLoss(weight, loss);

    /// <summary>Adds two losses.</summary>
    /// <param name="left">The first loss.</param>
    /// <param name="right">The second loss.</param>
    public static DistillationLoss operator +(DistillationLoss left, DistillationLoss right) => new SumLoss(left, right);

    /// <inheritdoc />
    public override string ToString() => Name;
}
