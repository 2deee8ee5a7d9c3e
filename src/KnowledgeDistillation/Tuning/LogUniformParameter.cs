using System.Text.Json;
using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Tuning;

/// <summary>
/// A positive real parameter whose logarithm is uniform in [log <see cref="Low"/>, log <see cref="High"/>] (learning rates,
/// weight decay): each decade is equally likely.
/// </summary>
public sealed class LogUniformParameter : SearchParameter
{
    private readonly double _log10Low;
    private readonly double _log10High;

    internal LogUniformParameter(string name, double low, double high, int? gridPoints)
        : base(name)
    {
        CheckRange(name, "log-uniform", low, high, log: true);
        Low = low;
        High = high;
        GridPoints = CheckGridPoints(name, gridPoints);
        _log10Low = Math.Log10(low);
        _log10High = Math.Log10(high);
    }

    /// <summary>The smallest value (&gt; 0).</summary>
    public double Low { get; }

    /// <summary>The largest value.</summary>
    public double High { get; }

    /// <summary>
    /// Geometrically spaced grid points from <see cref="Low"/> to <see cref="High"/> (both included; computed as powers of 10,
    /// so a decade grid such as [1e-4, 1] with 5 points gives 0.0001, 0.001, 0.01, 0.1, 1); <c>null</c>: none.
    /// </summary>
    public int? GridPoints { get; }

    /// <inheritdoc />
    public override string Kind => "log-uniform";

    /// <inheritdoc />
    public override long? GridSize => GridPoints;

    /// <inheritdoc />
    public override string ToString() => $"{Name}: log-uniform [{Text(Low)}, {Text(High)}]{GridText(GridPoints)}";

    internal override object GridValue(long index)
    {
        var last = GridPoints!.Value - 1;
        return index == 0 ? Low : index == last ? High : Math.Pow(10, _log10Low + (index * (_log10High - _log10Low) / last));
    }

    internal override object Sample(SampleRandom random) =>
        Math.Clamp(Math.Pow(10, _log10Low + (random.NextDouble() * (_log10High - _log10Low))), Low, High);

    internal override bool TryRead(JsonElement element, out object value)
    {
        if (element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var d))
        {
            value = d;
            return true;
        }

        value = null!;
        return false;
    }

    private protected override void WriteFields(Utf8JsonWriter json)
    {
        json.WriteNumber("low", Low);
        json.WriteNumber("high", High);
        if (GridPoints is { } n)
        {
            json.WriteNumber("gridPoints", n);
        }
    }
}
