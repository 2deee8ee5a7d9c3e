using System.Text.Json;

namespace KnowledgeDistillation.Tuning;

/// <summary>One trial line of a results file, as read (its parameters still undecoded).</summary>
internal sealed record RecordedTrial(int Line, int Index, JsonElement Parameters, TrialStatus Status, double? Score, double Seconds, string? Error)
{
    /// <summary>Reads a trial line; null when a field is missing or has the wrong type.</summary>
    public static RecordedTrial? TryRead(JsonElement element, int line)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("index", out var index) || index.ValueKind != JsonValueKind.Number || !index.TryGetInt32(out var i) || i < 0
            || !element.TryGetProperty("parameters", out var parameters) || parameters.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("status", out var statusElement) || statusElement.ValueKind != JsonValueKind.String
            || !element.TryGetProperty("seconds", out var seconds) || seconds.ValueKind != JsonValueKind.Number)
        {
            return null;
        }

        TrialStatus status;
        switch (statusElement.GetString())
        {
            case "completed":
                status = TrialStatus.Completed;
                break;
            case "failed":
                status = TrialStatus.Failed;
                break;
            default:
                return null;
        }

        double? score = null;
        if (element.TryGetProperty("score", out var scoreElement) && scoreElement.ValueKind == JsonValueKind.Number)
        {
            if (!scoreElement.TryGetDouble(out var value) || !double.IsFinite(value))
            {
                return null;
            }

            score = value;
        }

        if (status == TrialStatus.Completed && score is null)
        {
            return null; // a completed trial has a finite score
        }

        var error = element.TryGetProperty("error", out var errorElement) && errorElement.ValueKind == JsonValueKind.String ? errorElement.GetString() : null;
        return new RecordedTrial(line, i, parameters.Clone(), status, status == TrialStatus.Completed ? score : null, seconds.GetDouble(), error);
    }
}
