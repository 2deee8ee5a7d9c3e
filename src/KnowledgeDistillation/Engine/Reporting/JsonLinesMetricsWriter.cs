using System.Text.Json;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Appends one JSON object per epoch to a JSON-lines file:
/// <c>{"time":"…","stage":"distill","epoch":1,"step":469,"steps":469,"skippedSteps":0,"loss":0.41,"lossParts":{"kd":…},
/// "train":{"student":{"accuracy":…}},"eval":{…},"learningRate":0.05,"seconds":12.3}</c> (epoch from 1; step: the
/// global step reached at the epoch's end; a NaN or infinite value is written as <c>null</c>). An existing file is
/// appended to (a resumed run continues it), never overwritten. The file is opened and closed for each epoch.
/// </summary>
public sealed class JsonLinesMetricsWriter : IDistillationCallback
{
    private long _steps;

    /// <summary>Creates the writer; nothing is written before the first epoch ends.</summary>
    /// <param name="path">The file (its directory is created if missing), e.g. <c>output/metrics.jsonl</c>.</param>
    /// <exception cref="ArgumentException">The path is null or blank.</exception>
    public JsonLinesMetricsWriter(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        FilePath = path;
    }

    /// <summary>The JSON-lines file.</summary>
    public string FilePath { get; }

    /// <inheritdoc />
    public void OnStepEnd(StepInfo step) => _steps = step.Step + 1;

    /// <inheritdoc />
    public void OnEpochEnd(EpochRecord record, TrainingControl control)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (Path.GetDirectoryName(Path.GetFullPath(FilePath)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", DateTimeOffset.UtcNow);
            json.WriteString("stage", record.Stage);
            json.WriteNumber("epoch", record.Epoch + 1);
            json.WriteNumber("step", _steps);
            json.WriteNumber("steps", record.Steps);
            json.WriteNumber("skippedSteps", record.SkippedSteps);
            Number(json, "loss", record.Loss);
            json.WriteStartObject("lossParts");
            foreach (var (name, value) in record.LossParts)
            {
                Number(json, name, value);
            }

            json.WriteEndObject();
            Metrics(json, "train", record.TrainMetrics);
            Metrics(json, "eval", record.EvalMetrics);
            Number(json, "learningRate", record.LearningRate);
            Number(json, "seconds", record.Duration.TotalSeconds);
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        using var file = new FileStream(FilePath, FileMode.Append, FileAccess.Write, FileShare.Read);
        buffer.Position = 0;
        buffer.CopyTo(file);
    }

    private static void Number(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, value);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void Metrics(Utf8JsonWriter json, string name, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> metrics)
    {
        json.WriteStartObject(name);
        foreach (var (participant, values) in metrics)
        {
            json.WriteStartObject(participant);
            foreach (var (metric, value) in values)
            {
                Number(json, metric, value);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
    }
}
