namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// The Gumbel-softmax temperature schedule of HTD/DE (the official run.py's <c>T_annealing</c>):
/// <c>T(e) = T₀ (T_end / T₀)^(e / E)</c> for the stage's 0-based epoch e, floored at <c>T_end</c>. The official loop
/// applies <c>T(e − 1)</c> in epoch e (T₀ in epochs 0 and 1); this schedule starts one epoch earlier, which only shifts the
/// curve by 1/E of its length.
/// </summary>
public sealed record GumbelAnnealing
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="epochs">E &gt;= 1: the epochs over which T falls to <paramref name="final"/>.</param>
    /// <param name="initial">T₀ &gt; 0 (the paper: 1).</param>
    /// <param name="final">T_end in (0, T₀] (the paper: 1e-10).</param>
    public GumbelAnnealing(int epochs, double initial = 1.0, double final = 1e-10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        Guard.Positive(initial, nameof(initial));
        Guard.Positive(final, nameof(final));
        if (final > initial)
        {
            throw new ArgumentOutOfRangeException(nameof(final), final, $"'final' must be <= initial ({initial}).");
        }
        Epochs = epochs;
        Initial = initial;
        Final = final;
    }

    /// <summary>A constant temperature.</summary>
    /// <param name="temperature">T &gt; 0.</param>
    public static GumbelAnnealing Constant(double temperature) => new(1, temperature, temperature);

    /// <summary>E.</summary>
    public int Epochs { get; }

    /// <summary>T₀.</summary>
    public double Initial { get; }

    /// <summary>T_end.</summary>
    public double Final { get; }

    /// <summary>The temperature of a 0-based epoch.</summary>
    /// <param name="epoch">The epoch, &gt;= 0.</param>
    public double At(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return Math.Max(Final, Initial * Math.Pow(Final / Initial, (double)epoch / Epochs));
    }
}
