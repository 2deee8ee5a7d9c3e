using System.Text.Json;
using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Tuning;

/// <summary>
/// An integer parameter in [<see cref="Low"/>, <see cref="High"/>] (epochs, layer widths): every integer equally likely, or,
/// with <see cref="Log"/>, each decade equally likely (a value <c>k</c> has probability proportional to log((k+1)/k)).
/// </summary>
public sealed class IntegerParameter : SearchParameter
{
    private readonly int[]? _grid;

    internal IntegerParameter(string name, int low, int high, bool log, int? gridPoints)
        : base(name)
    {
        if (log && low < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(low), low, $"Parameter '{name}': a log-scaled integer range needs low >= 1; got [{low}, {high}].");
        }

        if (low > high)
        {
            throw new ArgumentOutOfRangeException(nameof(high), high, $"Parameter '{name}': the integer range needs low <= high; got [{low}, {high}].");
        }

        Low = low;
        High = high;
        Log = log;
        GridPoints = CheckGridPoints(name, gridPoints);
        if (gridPoints is { } n && n < Count)
        {
            _grid = SpacedGrid(n);
        }
    }

    /// <summary>The smallest value.</summary>
    public int Low { get; }

    /// <summary>The largest value (included).</summary>
    public int High { get; }

    /// <summary>Whether values are drawn (and grid points spaced) on a log scale.</summary>
    public bool Log { get; }

    /// <summary>
    /// The grid points grid search asks for: evenly (or, with <see cref="Log"/>, geometrically) spaced and rounded, duplicates
    /// removed, so the grid can have fewer; <c>null</c> (or at least as many as the range holds): every integer in the range.
    /// </summary>
    public int? GridPoints { get; }

    /// <inheritdoc />
    public override string Kind => "integer";

    /// <inheritdoc />
    public override long? GridSize => _grid?.Length ?? Count;

    private long Count => (long)High - Low + 1;

    /// <inheritdoc />
    public override string ToString() => $"{Name}: integer [{Low}, {High}]{(Log ? " (log)" : string.Empty)}{GridText(GridPoints)}";

    internal override object GridValue(long index) => _grid is { } grid ? grid[index] : (int)(Low + index);

    internal override object Sample(SampleRandom random)
    {
        if (!Log)
        {
            return (int)TrialRandom.Integer(random, Low, High);
        }

        // floor of a log-uniform draw over [low, high + 1): each integer k gets the mass of [k, k + 1) in log space.
        var logLow = Math.Log10(Low);
        var logHigh = Math.Log10((double)High + 1);
        var value = Math.Floor(Math.Pow(10, logLow + (random.NextDouble() * (logHigh - logLow))));
        return (int)Math.Clamp(value, Low, High);
    }

    internal override bool TryRead(JsonElement element, out object value)
    {
        if (element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var i))
        {
            value = i;
            return true;
        }

        value = null!;
        return false;
    }

    private protected override void WriteFields(Utf8JsonWriter json)
    {
        json.WriteNumber("low", Low);
        json.WriteNumber("high", High);
        json.WriteBoolean("log", Log);
        if (GridPoints is { } n)
        {
            json.WriteNumber("gridPoints", n);
        }
    }

    private int[] SpacedGrid(int points)
    {
        var values = new SortedSet<int>();
        var logLow = Log ? Math.Log10(Low) : 0;
        var logHigh = Log ? Math.Log10(High) : 0;
        for (var i = 0; i < points; i++)
        {
            var t = (double)i / (points - 1);
            var x = Log ? Math.Pow(10, logLow + (t * (logHigh - logLow))) : Low + (t * ((double)High - Low));
            values.Add((int)Math.Clamp(Math.Round(x, MidpointRounding.AwayFromZero), Low, High));
        }

        return values.ToArray();
    }
}
