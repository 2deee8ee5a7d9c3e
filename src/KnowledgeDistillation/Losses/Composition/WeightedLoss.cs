using KnowledgeDistillation.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>A loss multiplied by a weight that may depend on the epoch (a constant, or a warm-up schedule).</summary>
public sealed class WeightedLoss : DistillationLoss
{
    private readonly Func<int, double> _weight;

    /// <summary>Scales <paramref name="inner"/> by a constant weight.</summary>
    /// <param name="weight">A finite weight &gt;= 0.</param>
    /// <param name="inner">The loss to scale.</param>
    public WeightedLoss(double weight, IDistillationLoss inner)
        : this(Constant(Guard.NonNegative(weight, nameof(weight))), inner)
    {
    }

    /// <summary>Scales <paramref name="inner"/> by a weight computed from the epoch (within the stage, from 0).</summary>
    /// <param name="weightForEpoch">Returns a finite weight &gt;= 0 for an epoch.</param>
    /// <param name="inner">The loss to scale.</param>
    public WeightedLoss(Func<int, double> weightForEpoch, IDistillationLoss inner)
        : base((inner ?? throw new ArgumentNullException(nameof(inner))).Name)
    {
        ArgumentNullException.ThrowIfNull(weightForEpoch);
        _weight = weightForEpoch;
        Inner = inner;
    }

    /// <summary>The scaled loss.</summary>
    public IDistillationLoss Inner { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => Inner.TrainableModules;

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> FrozenModules => Inner.FrozenModules;

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => Inner.State;

    /// <inheritdoc />
    public override LossRequirements Requirements => Inner.Requirements;

    /// <inheritdoc />
    public override void OnStepEnd(DistillationContext context) => Inner.OnStepEnd(context);

    /// <inheritdoc />
    public override void OnEpochEnd(LossEpochInfo epoch) => Inner.OnEpochEnd(epoch);

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && Inner is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    /// <summary>The weight in effect at an epoch.</summary>
    /// <param name="epoch">The epoch within the stage, from 0.</param>
    public double WeightAt(int epoch) => Guard.NonNegative(_weight(epoch), "weight");

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var inner = Inner.Compute(context);
        var weight = WeightAt(context.Epoch);
        return new LossResult(inner.Total * weight, inner.Parts);
    }

    private static Func<int, double> Constant(double weight) => _ => weight;
}
