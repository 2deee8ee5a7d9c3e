namespace KnowledgeDistillation.Tuning;

/// <summary>
/// One configuration of a search, as the objective sees it: the parameters by name with typed accessors, the trial's
/// index and a per-trial seed for model initialisation (<c>Reproducibility.Seed(trial.Seed)</c>).
/// </summary>
public sealed class TrialParameters
{
    private readonly string[] _names;
    private readonly Dictionary<string, object> _values;

    internal TrialParameters(int index, int seed, IReadOnlyList<string> names, IReadOnlyList<object> values)
    {
        Index = index;
        Seed = seed;
        _names = names.ToArray();
        _values = new Dictionary<string, object>(_names.Length, StringComparer.Ordinal);
        for (var i = 0; i < _names.Length; i++)
        {
            _values.Add(_names[i], values[i]);
        }
    }

    /// <summary>The trial's index in the search, from 0 (its position in the grid, or its draw in a random search).</summary>
    public int Index { get; }

    /// <summary>
    /// A seed for the trial's own randomness (weight initialisation, data order), in [0, <see cref="int.MaxValue"/>]: a pure
    /// function of the search's seed and <see cref="Index"/>, so a resumed search hands a trial the same seed.
    /// </summary>
    public int Seed { get; }

    /// <summary>The parameter names, in the space's declaration order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>
    /// The values by name: <see cref="double"/> for uniform and log-uniform parameters, <see cref="int"/> for integer ones,
    /// and for categorical ones the declared value (string, bool, int, long or double).
    /// </summary>
    public IReadOnlyDictionary<string, object> Values => _values;

    /// <summary>Whether the configuration has a parameter of that name.</summary>
    /// <param name="name">The parameter's name.</param>
    public bool Contains(string name) => _values.ContainsKey(name);

    /// <summary>
    /// The value of a parameter as <typeparamref name="T"/>: its own type, or a lossless numeric conversion (an integer read
    /// as <see cref="long"/>, <see cref="double"/> or <see cref="float"/>; a long that fits read as <see cref="int"/>; a double
    /// read as <see cref="float"/>). A real value is never read as an integer.
    /// </summary>
    /// <typeparam name="T">The type to read.</typeparam>
    /// <param name="name">The parameter's name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">No parameter has that name (the message lists the names).</exception>
    /// <exception cref="InvalidCastException">The value cannot be read as <typeparamref name="T"/> (the message says its type and value).</exception>
    public T Get<T>(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_values.TryGetValue(name, out var value))
        {
            throw new KeyNotFoundException($"Trial {Index} has no parameter '{name}'; its parameters are: {string.Join(", ", _names)}.");
        }

        if (ParameterValue.TryConvert<T>(value, out var result))
        {
            return result;
        }

        throw new InvalidCastException(
            $"Parameter '{name}' of trial {Index} is a {ParameterValue.TypeName(value)} ({ParameterValue.Format(value)}); it cannot be read as {typeof(T).Name}.");
    }

    /// <summary>A real (or integer) parameter as <see cref="double"/>; see <see cref="Get{T}"/>.</summary>
    /// <param name="name">The parameter's name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    /// <exception cref="InvalidCastException">The value is not a number.</exception>
    public double GetDouble(string name) => Get<double>(name);

    /// <summary>An integer parameter as <see cref="int"/>; see <see cref="Get{T}"/>.</summary>
    /// <param name="name">The parameter's name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    /// <exception cref="InvalidCastException">The value is not an integer that fits in an int.</exception>
    public int GetInt(string name) => Get<int>(name);

    /// <summary>An integer parameter as <see cref="long"/>; see <see cref="Get{T}"/>.</summary>
    /// <param name="name">The parameter's name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    /// <exception cref="InvalidCastException">The value is not an integer.</exception>
    public long GetLong(string name) => Get<long>(name);

    /// <summary>A string parameter; see <see cref="Get{T}"/>.</summary>
    /// <param name="name">The parameter's name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    /// <exception cref="InvalidCastException">The value is not a string.</exception>
    public string GetString(string name) => Get<string>(name);

    /// <summary>A boolean parameter; see <see cref="Get{T}"/>.</summary>
    /// <param name="name">The parameter's name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    /// <exception cref="InvalidCastException">The value is not a bool.</exception>
    public bool GetBool(string name) => Get<bool>(name);

    /// <summary>The configuration as text, e.g. <c>hidden=64, lr=0.001, epochs=20</c>.</summary>
    public override string ToString() => string.Join(", ", _names.Select(n => $"{n}={ParameterValue.Format(_values[n])}"));

    /// <summary>Whether another configuration has the same names and values (index and seed not compared).</summary>
    internal bool SameValues(TrialParameters other) =>
        _names.SequenceEqual(other._names, StringComparer.Ordinal) && _names.All(n => _values[n].Equals(other._values[n]));
}
