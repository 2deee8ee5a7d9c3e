using System.Globalization;
using System.Text.Json;

namespace KnowledgeDistillation.Tuning;

/// <summary>
/// The first line of a results file: what search wrote it (format, strategy, seed, direction and the space's definition).
/// A search resumes a file only when all of these match.
/// </summary>
internal sealed class SearchHeader
{
    /// <summary>The value of the header's "kind" field.</summary>
    public const string Kind = "hyperparameter-search";

    /// <summary>The file format (bumped if the way configurations are generated ever changes).</summary>
    public const int Format = 1;

    private readonly IReadOnlyList<SearchParameter> _space;
    private readonly SearchStrategy _strategy;
    private readonly int _seed;
    private readonly OptimizationDirection _direction;

    public SearchHeader(IReadOnlyList<SearchParameter> space, SearchStrategy strategy, int seed, OptimizationDirection direction)
    {
        _space = space;
        _strategy = strategy;
        _seed = seed;
        _direction = direction;
    }

    /// <summary>The header line (without its newline).</summary>
    public byte[] ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("kind", Kind);
            json.WriteNumber("format", Format);
            json.WriteString("strategy", Name(_strategy));
            json.WriteNumber("seed", _seed);
            json.WriteString("direction", Name(_direction));
            json.WriteStartArray("space");
            foreach (var parameter in _space)
            {
                parameter.WriteDefinition(json);
            }

            json.WriteEndArray();
            json.WriteString("created", DateTimeOffset.UtcNow);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Whether a parsed first line is a search header at all (its "kind").</summary>
    public static bool IsHeader(JsonElement line) =>
        line.ValueKind == JsonValueKind.Object && line.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String && kind.GetString() == Kind;

    /// <summary>What differs between a recorded header and this search, or <c>null</c> when they describe the same search.</summary>
    public string? Difference(JsonElement recorded)
    {
        var format = Field(recorded, "format");
        if (format != Format.ToString(CultureInfo.InvariantCulture))
        {
            return $"it was written in format {format}, this version reads format {Format}";
        }

        using var current = JsonDocument.Parse(ToJson());
        foreach (var (field, what) in new[] { ("strategy", "strategy"), ("seed", "seed"), ("direction", "direction") })
        {
            var was = Field(recorded, field);
            var now = Field(current.RootElement, field);
            if (was != now)
            {
                return $"its {what} is {was}, this search's is {now}";
            }
        }

        return SpaceDifference(recorded.TryGetProperty("space", out var space) ? space : default, current.RootElement.GetProperty("space"));
    }

    private static string? SpaceDifference(JsonElement recorded, JsonElement current)
    {
        if (recorded.ValueKind != JsonValueKind.Array)
        {
            return "it records no search space";
        }

        var wasNames = recorded.EnumerateArray().Select(p => Field(p, "name")).ToArray();
        var nowNames = current.EnumerateArray().Select(p => Field(p, "name")).ToArray();
        if (!wasNames.SequenceEqual(nowNames, StringComparer.Ordinal))
        {
            return $"its space has the parameters [{string.Join(", ", wasNames)}], this search's has [{string.Join(", ", nowNames)}]";
        }

        foreach (var (was, now) in recorded.EnumerateArray().Zip(current.EnumerateArray()))
        {
            var wasText = Canonical(was);
            var nowText = Canonical(now);
            if (wasText != nowText)
            {
                return $"parameter '{Field(now, "name")}' is {wasText} in the file and {nowText} in this search";
            }
        }

        return null;
    }

    private static string Field(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()
            : "(missing)";

    private static string Canonical(JsonElement element) => JsonSerializer.Serialize(element);

    private static string Name(SearchStrategy strategy) => strategy == SearchStrategy.Grid ? "grid" : "random";

    private static string Name(OptimizationDirection direction) => direction == OptimizationDirection.Maximize ? "maximize" : "minimize";
}
