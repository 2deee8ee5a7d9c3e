using System.Text.Json;
using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Tuning;

/// <summary>
/// One named dimension of a <see cref="SearchSpace"/>: <see cref="CategoricalParameter"/>, <see cref="UniformParameter"/>,
/// <see cref="LogUniformParameter"/> or <see cref="IntegerParameter"/>. Declared through the <see cref="SearchSpace"/> builder,
/// which validates it; immutable.
/// </summary>
public abstract class SearchParameter
{
    /// <summary>The most grid points an explicit <c>gridPoints</c> may ask for.</summary>
    public const int MaxGridPoints = 100_000;

    private protected SearchParameter(string name) => Name = name;

    /// <summary>The parameter's name, unique within its space (the key of <see cref="TrialParameters.Get{T}"/>).</summary>
    public string Name { get; }

    /// <summary>The kind as written in a results file: "categorical", "uniform", "log-uniform" or "integer".</summary>
    public abstract string Kind { get; }

    /// <summary>
    /// How many values <see cref="SearchStrategy.Grid"/> tries for this parameter, or <c>null</c> when it has no finite grid
    /// (a continuous parameter declared without <c>gridPoints</c>).
    /// </summary>
    public abstract long? GridSize { get; }

    /// <summary>The value at a position of the parameter's grid (0 .. <see cref="GridSize"/> - 1), in increasing order.</summary>
    internal abstract object GridValue(long index);

    /// <summary>Draws a value; uses the stream in a fixed way, so the draw is a pure function of the stream's state.</summary>
    internal abstract object Sample(SampleRandom random);

    /// <summary>Decodes a value read from a results file; false when it is not a value this parameter can produce.</summary>
    internal abstract bool TryRead(JsonElement element, out object value);

    /// <summary>Writes the definition's own fields (after "name" and "kind") for the results file's header.</summary>
    private protected abstract void WriteFields(Utf8JsonWriter json);

    /// <summary>Writes the definition as one JSON object (the header of a results file records the space this way).</summary>
    internal void WriteDefinition(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("name", Name);
        json.WriteString("kind", Kind);
        WriteFields(json);
        json.WriteEndObject();
    }

    /// <summary>Checks an optional grid-point count.</summary>
    private protected static int? CheckGridPoints(string name, int? gridPoints)
    {
        if (gridPoints is { } n && n is < 2 or > MaxGridPoints)
        {
            throw new ArgumentOutOfRangeException(nameof(gridPoints), n, $"Parameter '{name}': gridPoints must be in [2, {MaxGridPoints}] (or null for no grid).");
        }

        return gridPoints;
    }

    /// <summary>Checks a continuous range: finite bounds, <paramref name="low"/> &lt; <paramref name="high"/>, and <paramref name="low"/> &gt; 0 for a log scale.</summary>
    private protected static void CheckRange(string name, string kind, double low, double high, bool log)
    {
        if (!double.IsFinite(low))
        {
            throw new ArgumentOutOfRangeException(nameof(low), low, $"Parameter '{name}': the {kind} range's low bound must be a finite number.");
        }

        if (!double.IsFinite(high))
        {
            throw new ArgumentOutOfRangeException(nameof(high), high, $"Parameter '{name}': the {kind} range's high bound must be a finite number.");
        }

        if (log && !(low > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(low), low, $"Parameter '{name}': a {kind} range needs low > 0 (the range is sampled in log space); got [{Text(low)}, {Text(high)}].");
        }

        if (!(low < high))
        {
            throw new ArgumentOutOfRangeException(nameof(high), high, $"Parameter '{name}': the {kind} range needs low < high; got [{Text(low)}, {Text(high)}].");
        }
    }

    /// <summary>A number as text for messages and descriptions.</summary>
    private protected static string Text(double value) => ParameterValue.Format(value);

    /// <summary>" (N grid points)" or nothing.</summary>
    private protected static string GridText(int? gridPoints) => gridPoints is { } n ? $" ({n} grid points)" : string.Empty;
}
