using System.Text.Json;
using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Tuning;

/// <summary>A parameter that takes one of a list of values (strings, numbers or bools), each equally likely in a random search.</summary>
public sealed class CategoricalParameter : SearchParameter
{
    private readonly object[] _values;

    internal CategoricalParameter(string name, IReadOnlyList<object?> values)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            throw new ArgumentException($"Parameter '{name}': a categorical parameter needs at least one value.", nameof(values));
        }

        _values = new object[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            var value = ParameterValue.Normalize(values[i]) ?? throw new ArgumentException(
                $"Parameter '{name}': value {i} is {(values[i] is null ? "null" : "of type " + values[i]!.GetType().Name)}; a categorical value must be a string, bool, int, long, float or double (pass several values as separate arguments or an array).",
                nameof(values));
            if (value is double d && !double.IsFinite(d))
            {
                throw new ArgumentException($"Parameter '{name}': value {i} is {ParameterValue.Format(d)}; numeric values must be finite.", nameof(values));
            }

            for (var j = 0; j < i; j++)
            {
                if (ParameterValue.Same(_values[j], value))
                {
                    throw new ArgumentException($"Parameter '{name}': the value {ParameterValue.Format(value)} is listed twice (values {j} and {i}).", nameof(values));
                }
            }

            _values[i] = value;
        }
    }

    /// <summary>The values, in declaration order (the grid order). Integers are <see cref="int"/> or <see cref="long"/>, other numbers <see cref="double"/>.</summary>
    public IReadOnlyList<object> Values => _values;

    /// <inheritdoc />
    public override string Kind => "categorical";

    /// <inheritdoc />
    public override long? GridSize => _values.Length;

    /// <inheritdoc />
    public override string ToString() => $"{Name}: categorical [{string.Join(", ", _values.Select(ParameterValue.Format))}]";

    internal override object GridValue(long index) => _values[index];

    internal override object Sample(SampleRandom random) => _values[random.NextInt(_values.Length)];

    internal override bool TryRead(JsonElement element, out object value)
    {
        foreach (var candidate in _values)
        {
            if (ParameterValue.Matches(element, candidate))
            {
                value = candidate;
                return true;
            }
        }

        value = null!;
        return false;
    }

    private protected override void WriteFields(Utf8JsonWriter json)
    {
        json.WriteStartArray("values");
        foreach (var value in _values)
        {
            ParameterValue.Write(json, value);
        }

        json.WriteEndArray();
    }
}
