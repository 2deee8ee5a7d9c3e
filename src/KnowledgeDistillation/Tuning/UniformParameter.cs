using System.Text.Json;
using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Tuning;

/// <summary>A real parameter drawn uniformly from [<see cref="Low"/>, <see cref="High"/>] (dropout, a loss weight).</summary>
public sealed class UniformParameter : SearchParameter
{
    internal UniformParameter(string name, double low, double high, int? gridPoints)
        : base(name)
    {
        CheckRange(name, "uniform", low, high, log: false);
        Low = low;
        High = high;
        GridPoints = CheckGridPoints(name, gridPoints);
    }

    /// <summary>The smallest value.</summary>
    public double Low { get; }

    /// <summary>The largest value.</summary>
    public double High { get; }

    /// <summary>Evenly spaced grid points from <see cref="Low"/> to <see cref="High"/> (both included) for grid search; <c>null</c>: none.</summary>
    public int? GridPoints { get; }

    /// <inheritdoc />
    public override string Kind => "uniform";

    /// <inheritdoc />
    public override long? GridSize => GridPoints;

    /// <inheritdoc />
    public override string ToString() => $"{Name}: uniform [{Text(Low)}, {Text(High)}]{GridText(GridPoints)}";

    internal override object GridValue(long index)
    {
        var last = GridPoints!.Value - 1;
        return index == last ? High : Low + (index * (High - Low) / last);
    }

    internal override object Sample(SampleRandom random) => Math.Clamp(Low + (random.NextDouble() * (High - Low)), Low, High);

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
