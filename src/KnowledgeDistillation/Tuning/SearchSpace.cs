namespace KnowledgeDistillation.Tuning;

/// <summary>
/// The named hyper-parameters a <see cref="HyperparameterSearch"/> explores, declared fluently; every declaration is
/// checked at once (an <see cref="ArgumentException"/> whose message names the parameter and the expected range):
/// <code>
/// var space = new SearchSpace()
///     .Categorical("hidden", 64, 128)
///     .LogUniform("lr", 1e-4, 1e-1, gridPoints: 4)
///     .Integer("epochs", 10, 50);
/// </code>
/// The order of declaration is the grid order (the last parameter varies fastest) and the order of random draws.
/// </summary>
public sealed class SearchSpace
{
    private readonly List<SearchParameter> _parameters = new();

    /// <summary>The parameters, in declaration order.</summary>
    public IReadOnlyList<SearchParameter> Parameters => _parameters;

    /// <summary>
    /// The number of configurations of the full grid (the product of every parameter's <see cref="SearchParameter.GridSize"/>),
    /// or <c>null</c> when a parameter has no finite grid. 1 for an empty space; saturates at <see cref="long.MaxValue"/>.
    /// </summary>
    public long? GridSize
    {
        get
        {
            long size = 1;
            foreach (var parameter in _parameters)
            {
                if (parameter.GridSize is not { } n)
                {
                    return null;
                }

                size = n != 0 && size > long.MaxValue / n ? long.MaxValue : size * n;
            }

            return size;
        }
    }

    /// <summary>Adds a parameter that takes one of <paramref name="values"/> (strings, bools, ints, longs, floats or doubles; may be mixed).</summary>
    /// <param name="name">The parameter's name, unique in the space.</param>
    /// <param name="values">The choices, at least one, no two equal (1 and 1.0 count as equal).</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">The name is blank or taken, the list is empty, a value has an unsupported type, is not finite or is repeated.</exception>
    public SearchSpace Categorical(string name, params object[] values) => Add(name, n => new CategoricalParameter(n, values));

    /// <summary>Adds a parameter that takes one of the strings <paramref name="values"/>.</summary>
    /// <param name="name">The parameter's name, unique in the space.</param>
    /// <param name="values">The choices, at least one, no two equal.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">The name is blank or taken, the list is empty, a value is null or repeated.</exception>
    public SearchSpace Categorical(string name, params string[] values) => Add(name, n => new CategoricalParameter(n, values));

    /// <summary>Adds a parameter that takes one of the integers <paramref name="values"/> (layer widths, batch sizes).</summary>
    /// <param name="name">The parameter's name, unique in the space.</param>
    /// <param name="values">The choices, at least one, no two equal.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">The name is blank or taken, the list is empty or a value is repeated.</exception>
    public SearchSpace Categorical(string name, params int[] values) => Add(name, n => new CategoricalParameter(n, Box(values)));

    /// <summary>Adds a parameter that takes one of the 64-bit integers <paramref name="values"/>.</summary>
    /// <param name="name">The parameter's name, unique in the space.</param>
    /// <param name="values">The choices, at least one, no two equal.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">The name is blank or taken, the list is empty or a value is repeated.</exception>
    public SearchSpace Categorical(string name, params long[] values) => Add(name, n => new CategoricalParameter(n, Box(values)));

    /// <summary>Adds a parameter that takes one of the numbers <paramref name="values"/>.</summary>
    /// <param name="name">The parameter's name, unique in the space.</param>
    /// <param name="values">The choices, at least one, finite, no two equal.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">The name is blank or taken, the list is empty, a value is not finite or is repeated.</exception>
    public SearchSpace Categorical(string name, params double[] values) => Add(name, n => new CategoricalParameter(n, Box(values)));

    /// <summary>Adds a parameter that takes one of the booleans <paramref name="values"/> (e.g. <c>true, false</c>).</summary>
    /// <param name="name">The parameter's name, unique in the space.</param>
    /// <param name="values">The choices, at least one, no two equal.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">The name is blank or taken, the list is empty or a value is repeated.</exception>
    public SearchSpace Categorical(string name, params bool[] values) => Add(name, n => new CategoricalParameter(n, Box(values)));

    /// <summary>Adds a real parameter drawn uniformly from [<paramref name="low"/>, <paramref name="high"/>].</summary>
    /// <param name="name">The parameter's name, unique in the space.</param>
    /// <param name="low">The smallest value (finite).</param>
    /// <param name="high">The largest value (finite, &gt; <paramref name="low"/>).</param>
    /// <param name="gridPoints">For grid search: evenly spaced points, both bounds included, in [2, <see cref="SearchParameter.MaxGridPoints"/>]; <c>null</c>: the parameter cannot be grid-searched.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">The name is blank or taken.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A bound is not finite, <paramref name="low"/> &gt;= <paramref name="high"/>, or <paramref name="gridPoints"/> is out of range.</exception>
    public SearchSpace Uniform(string name, double low, double high, int? gridPoints = null) =>
        Add(name, n => new UniformParameter(n, low, high, gridPoints));

    /// <summary>Adds a positive real parameter whose logarithm is uniform (learning rates, weight decay).</summary>
    /// <param name="name">The parameter's name, unique in the space.</param>
    /// <param name="low">The smallest value (finite, &gt; 0).</param>
    /// <param name="high">The largest value (finite, &gt; <paramref name="low"/>).</param>
    /// <param name="gridPoints">For grid search: geometrically spaced points, both bounds included, in [2, <see cref="SearchParameter.MaxGridPoints"/>]; <c>null</c>: the parameter cannot be grid-searched.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">The name is blank or taken.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A bound is not finite, <paramref name="low"/> &lt;= 0, <paramref name="low"/> &gt;= <paramref name="high"/>, or <paramref name="gridPoints"/> is out of range.</exception>
    public SearchSpace LogUniform(string name, double low, double high, int? gridPoints = null) =>
        Add(name, n => new LogUniformParameter(n, low, high, gridPoints));

    /// <summary>Adds an integer parameter in [<paramref name="low"/>, <paramref name="high"/>] (both included).</summary>
    /// <param name="name">The parameter's name, unique in the space.</param>
    /// <param name="low">The smallest value (&gt;= 1 when <paramref name="log"/>).</param>
    /// <param name="high">The largest value (&gt;= <paramref name="low"/>).</param>
    /// <param name="log">Whether to draw on a log scale (each decade equally likely).</param>
    /// <param name="gridPoints">For grid search: this many spaced, rounded points (duplicates removed); <c>null</c>: every integer in the range.</param>
    /// <returns>This space.</returns>
    /// <exception cref="ArgumentException">The name is blank or taken.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="low"/> &gt; <paramref name="high"/>, <paramref name="low"/> &lt; 1 with <paramref name="log"/>, or <paramref name="gridPoints"/> is out of range.</exception>
    public SearchSpace Integer(string name, int low, int high, bool log = false, int? gridPoints = null) =>
        Add(name, n => new IntegerParameter(n, low, high, log, gridPoints));

    /// <inheritdoc />
    public override string ToString() => _parameters.Count == 0 ? "(empty)" : string.Join("; ", _parameters);

    private static object?[] Box<T>(T[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.Select(v => (object?)v).ToArray();
    }

    private SearchSpace Add(string name, Func<string, SearchParameter> create)
    {
        Guard.Name(name, nameof(name));
        if (_parameters.Any(p => string.Equals(p.Name, name, StringComparison.Ordinal)))
        {
            throw new ArgumentException($"Parameter '{name}' is declared twice; parameter names must be unique.", nameof(name));
        }

        _parameters.Add(create(name));
        return this;
    }
}
