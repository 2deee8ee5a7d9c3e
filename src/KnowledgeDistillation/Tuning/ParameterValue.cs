using System.Globalization;
using System.Text.Json;

namespace KnowledgeDistillation.Tuning;

/// <summary>
/// The values a search parameter can take (string, bool, int, long, double): formatting, JSON, equality and the numeric
/// conversions <see cref="TrialParameters.Get{T}"/> allows.
/// </summary>
internal static class ParameterValue
{
    /// <summary>Normalises a categorical value (float becomes double); null when its type is not supported.</summary>
    public static object? Normalize(object? value) => value switch
    {
        string or bool or int or long or double => value,
        float f => (double)f,
        _ => null,
    };

    /// <summary>Whether two values are the same choice (numbers compare by value: 1 and 1.0 are the same).</summary>
    public static bool Same(object a, object b) => (a, b) switch
    {
        (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
        (bool x, bool y) => x == y,
        (int or long, int or long) => Convert.ToInt64(a, CultureInfo.InvariantCulture) == Convert.ToInt64(b, CultureInfo.InvariantCulture),
        (int or long or double, int or long or double) => Convert.ToDouble(a, CultureInfo.InvariantCulture) == Convert.ToDouble(b, CultureInfo.InvariantCulture),
        _ => false,
    };

    /// <summary>The value as text: numbers in the invariant culture, shortest round-trip form.</summary>
    public static string Format(object value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>A short type name for messages ("double", "int", "string").</summary>
    public static string TypeName(object value) => value switch
    {
        string => "string",
        bool => "bool",
        int => "int",
        long => "long",
        double => "double",
        _ => value.GetType().Name,
    };

    /// <summary>Writes the value as a JSON value.</summary>
    public static void Write(Utf8JsonWriter json, object value)
    {
        switch (value)
        {
            case string s:
                json.WriteStringValue(s);
                break;
            case bool b:
                json.WriteBooleanValue(b);
                break;
            case int i:
                json.WriteNumberValue(i);
                break;
            case long l:
                json.WriteNumberValue(l);
                break;
            case double d:
                json.WriteNumberValue(d);
                break;
            default:
                throw new InvalidOperationException($"Unsupported parameter value type {value.GetType().Name}.");
        }
    }

    /// <summary>Whether a JSON value holds <paramref name="value"/> (as <see cref="Write"/> writes it).</summary>
    public static bool Matches(JsonElement element, object value) => value switch
    {
        string s => element.ValueKind == JsonValueKind.String && string.Equals(element.GetString(), s, StringComparison.Ordinal),
        bool b => element.ValueKind == (b ? JsonValueKind.True : JsonValueKind.False),
        int or long => element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var l) && l == Convert.ToInt64(value, CultureInfo.InvariantCulture),
        double d => element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var x) && x == d,
        _ => false,
    };

    /// <summary>Converts a stored value to <typeparamref name="T"/>: exact type, or a lossless numeric widening (int to long or double, a 32-bit long to int, double to float).</summary>
    public static bool TryConvert<T>(object value, out T result)
    {
        if (value is T same)
        {
            result = same;
            return true;
        }

        object? converted = (typeof(T), value) switch
        {
            (var t, int i) when t == typeof(long) => (long)i,
            (var t, int i) when t == typeof(double) => (double)i,
            (var t, int i) when t == typeof(float) => (float)i,
            (var t, long l) when t == typeof(int) && l is >= int.MinValue and <= int.MaxValue => (int)l,
            (var t, long l) when t == typeof(double) => (double)l,
            (var t, long l) when t == typeof(float) => (float)l,
            (var t, double d) when t == typeof(float) => (float)d,
            _ => null,
        };

        if (converted is T typed)
        {
            result = typed;
            return true;
        }

        result = default!;
        return false;
    }
}
