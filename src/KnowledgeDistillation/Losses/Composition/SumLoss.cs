using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>The sum of several losses; their parts are reported side by side under their names.</summary>
public sealed class SumLoss : DistillationLoss
{
    /// <summary>Sums <paramref name="terms"/> (nested sums are flattened).</summary>
    /// <param name="terms">At least one loss, with distinct names.</param>
    /// <exception cref="ArgumentException">No terms, or two terms share a name (their logs would collide).</exception>
    public SumLoss(params IDistillationLoss[] terms)
        : base("total")
    {
        ArgumentNullException.ThrowIfNull(terms);
        var flat = terms.SelectMany(t => t is SumLoss s ? s.Terms : new[] { t ?? throw new ArgumentNullException(nameof(terms)) }).ToArray();
        if (flat.Length == 0)
        {
            throw new ArgumentException("A sum needs at least one loss.", nameof(terms));
        }

        var duplicate = flat.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException(
                $"Two losses in a sum are both named '{duplicate.Key}'; give them distinct names (constructor argument 'name') so their logs do not collide.",
                nameof(terms));
        }

        Terms = flat;
        TrainableModules = flat.SelectMany(t => t.TrainableModules).Distinct().ToArray();
        FrozenModules = flat.SelectMany(t => t.FrozenModules).Distinct().ToArray();
        State = flat.SelectMany(t => t.State).Distinct().ToArray();
        Requirements = LossRequirements.Combine(flat.Select(t => t.Requirements));
    }

    /// <summary>The summed losses.</summary>
    public IReadOnlyList<IDistillationLoss> Terms { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> FrozenModules { get; }

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements { get; }

    /// <inheritdoc />
    public override void OnStepEnd(DistillationContext context)
    {
        foreach (var term in Terms)
        {
            term.OnStepEnd(context);
        }
    }

    /// <inheritdoc />
    public override void OnEpochEnd(LossEpochInfo epoch)
    {
        foreach (var term in Terms)
        {
            term.OnEpochEnd(epoch);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var term in Terms.OfType<IDisposable>())
            {
                term.Dispose();
            }
        }
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Tensor? total = null;
        var parts = new Dictionary<string, Tensor>();
        foreach (var term in Terms)
        {
            var result = term.Compute(context);
            total = total is null ? result.Total : total + result.Total;
            foreach (var (name, value) in result.Parts)
            {
                if (!parts.TryAdd(name, value))
                {
                    throw new InvalidOperationException($"Two losses in a sum report a part named '{name}'; rename one of them.");
                }
            }
        }

        return new LossResult(total!, parts);
    }
}
