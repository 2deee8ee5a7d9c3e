using System.Globalization;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Appends each epoch's scalars to a CSV file in long form, one row per value:
/// <c>stage,epoch,step,name,value</c> (epoch from 1; step: the global step reached at the epoch's end; names
/// <c>loss</c>, <c>loss/{part}</c>, <c>train/{participant}/{metric}</c>, <c>eval/{participant}/{metric}</c>, <c>lr</c>,
/// <c>seconds</c>; values in invariant culture, round-trip precision). The header is written when the file is new or
/// empty; an existing file is appended to (a resumed run continues it), never overwritten. The file is opened and closed
/// for each epoch.
/// </summary>
public sealed class CsvMetricsWriter : IDistillationCallback
{
    /// <summary>The header row.</summary>
    public const string Header = "stage,epoch,step,name,value";

    private long _steps;

    /// <summary>Creates the writer; nothing is written before the first epoch ends.</summary>
    /// <param name="path">The CSV file (its directory is created if missing).</param>
    /// <exception cref="ArgumentException">The path is null or blank.</exception>
    public CsvMetricsWriter(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        FilePath = path;
    }

    /// <summary>The CSV file.</summary>
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

        using var writer = new StreamWriter(FilePath, append: true);
        if (writer.BaseStream.Length == 0)
        {
            writer.WriteLine(Header);
        }

        var prefix = string.Create(CultureInfo.InvariantCulture, $"{Field(record.Stage)},{record.Epoch + 1},{_steps},");
        foreach (var (name, value) in EpochScalars.Of(record))
        {
            writer.Write(prefix);
            writer.Write(Field(name));
            writer.Write(',');
            writer.WriteLine(value.ToString("R", CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Quotes a field that holds a comma, quote or line break (RFC 4180).</summary>
    private static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
