namespace KnowledgeDistillation.Tuning;

/// <summary>
/// The configuration of each trial index: a pure function of (space, strategy, seed, index), so a search can be resumed
/// and a results file checked line by line.
/// </summary>
internal abstract class TrialGenerator
{
    private readonly string[] _names;

    protected TrialGenerator(IReadOnlyList<SearchParameter> parameters, int seed)
    {
        Parameters = parameters;
        Seed = seed;
        _names = parameters.Select(p => p.Name).ToArray();
    }

    /// <summary>The space's parameters, in declaration order.</summary>
    public IReadOnlyList<SearchParameter> Parameters { get; }

    /// <summary>The search's seed.</summary>
    public int Seed { get; }

    /// <summary>How many distinct indices the strategy can generate (the grid's size; <see cref="int.MaxValue"/> for random search).</summary>
    public abstract int Capacity { get; }

    /// <summary>Checks the space for a strategy and creates its generator.</summary>
    /// <exception cref="ArgumentException">The space is empty, or grid search meets a parameter without a finite grid or a grid over <see cref="int.MaxValue"/> points.</exception>
    public static TrialGenerator Create(IReadOnlyList<SearchParameter> parameters, SearchStrategy strategy, int seed)
    {
        if (parameters.Count == 0)
        {
            throw new ArgumentException("The search space is empty: declare at least one parameter.", "space");
        }

        return strategy switch
        {
            SearchStrategy.Grid => new GridTrialGenerator(parameters, seed),
            SearchStrategy.Random => new RandomTrialGenerator(parameters, seed),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown strategy."),
        };
    }

    /// <summary>The trials a search runs: <paramref name="maxTrials"/> capped by <see cref="Capacity"/>.</summary>
    public int Planned(int? maxTrials) => Math.Min(maxTrials ?? Capacity, Capacity);

    /// <summary>The configuration of trial <paramref name="index"/> (0 .. <see cref="Capacity"/> - 1).</summary>
    public TrialParameters Generate(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Capacity);
        return new TrialParameters(index, TrialRandom.TrialSeed(Seed, index), _names, Values(index));
    }

    /// <summary>The parameter values of trial <paramref name="index"/>, in declaration order.</summary>
    protected abstract object[] Values(int index);
}
