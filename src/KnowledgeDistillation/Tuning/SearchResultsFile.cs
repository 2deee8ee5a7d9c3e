using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace KnowledgeDistillation.Tuning;

/// <summary>
/// The JSON Lines record of a search: a header line (<see cref="SearchHeader"/>), then one line per finished trial. Held
/// open (others may read it) while the search runs; every line is written with one append and flushed to disk before the
/// next trial starts, so a crash can only cut the last line, which the next reader drops with a warning (and cuts off
/// before appending).
/// </summary>
internal sealed class SearchResultsFile : IDisposable
{
    private readonly FileStream _stream;

    private SearchResultsFile(string path, FileStream stream, IReadOnlyList<RecordedTrial> recorded)
    {
        FilePath = path;
        _stream = stream;
        Recorded = recorded;
    }

    /// <summary>The file's path.</summary>
    public string FilePath { get; }

    /// <summary>The trial lines found when the file was opened, in file order.</summary>
    public IReadOnlyList<RecordedTrial> Recorded { get; }

    /// <summary>Opens (or creates) the file, checks that its header describes <paramref name="header"/>'s search and reads its trials.</summary>
    /// <exception cref="InvalidOperationException">The file was written by a different search.</exception>
    /// <exception cref="InvalidDataException">A line other than an unterminated last one is not valid.</exception>
    public static SearchResultsFile Open(string path, SearchHeader header, ILogger logger)
    {
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        var stream = new FileStream(full, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var recorded = Load(full, stream, header, logger);
            return new SearchResultsFile(path, stream, recorded);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Appends a trial's line and flushes it to disk.</summary>
    public void Append(TrialResult trial)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("index", trial.Index);
            json.WriteNumber("seed", trial.Parameters.Seed);
            json.WriteStartObject("parameters");
            foreach (var name in trial.Parameters.Names)
            {
                json.WritePropertyName(name);
                ParameterValue.Write(json, trial.Parameters.Values[name]);
            }

            json.WriteEndObject();
            if (trial.Score is { } score)
            {
                json.WriteNumber("score", score);
            }
            else
            {
                json.WriteNull("score");
            }

            json.WriteString("status", trial.Status == TrialStatus.Completed ? "completed" : "failed");
            json.WriteNumber("seconds", trial.Duration.TotalSeconds);
            if (trial.Error is { } error)
            {
                json.WriteString("error", error);
            }
            else
            {
                json.WriteNull("error");
            }

            json.WriteString("finished", DateTimeOffset.UtcNow);
            json.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        WriteLine(buffer.ToArray());
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();

    private static List<RecordedTrial> Load(string path, FileStream stream, SearchHeader header, ILogger logger)
    {
        var content = new byte[stream.Length];
        stream.ReadExactly(content);
        var lines = Split(content);
        var recorded = new List<RecordedTrial>();
        if (lines.Count == 0 || (lines.Count == 1 && !lines[0].Terminated && !TryParse(content, lines[0], out _)))
        {
            if (lines.Count == 1)
            {
                logger.LogWarning("Results file {Path} holds only a cut-off header line (a crash while it was written); starting it over", path);
            }

            stream.SetLength(0);
            stream.Write(header.ToJson());
            stream.WriteByte((byte)'\n');
            stream.Flush(flushToDisk: true);
            return recorded;
        }

        if (!TryParse(content, lines[0], out var headerDocument) || !SearchHeader.IsHeader(headerDocument!.RootElement))
        {
            headerDocument?.Dispose();
            throw new InvalidDataException($"'{path}' is not a hyper-parameter search results file: its first line is not a search header. Use another ResultsPath.");
        }

        using (headerDocument)
        {
            if (header.Difference(headerDocument.RootElement) is { } difference)
            {
                throw new InvalidOperationException(
                    $"The results file '{path}' was written by a different search: {difference}. A search resumes only with the same "
                    + "space, strategy, seed and direction; use another ResultsPath (or delete the file) to start a new search.");
            }
        }

        var keepLength = content.Length;
        var needsNewline = !lines[^1].Terminated;
        for (var i = 1; i < lines.Count; i++)
        {
            var line = lines[i];
            if (IsBlank(content, line))
            {
                continue;
            }

            RecordedTrial? trial = null;
            if (TryParse(content, line, out var document))
            {
                using (document)
                {
                    trial = RecordedTrial.TryRead(document!.RootElement, i + 1);
                }
            }

            if (trial is not null)
            {
                recorded.Add(trial);
            }
            else if (!line.Terminated)
            {
                logger.LogWarning(
                    "Results file {Path}: the last line ({Line}) is cut off (a crash while it was written) and is ignored; its trial runs again",
                    path,
                    i + 1);
                keepLength = line.Start;
                needsNewline = false;
            }
            else
            {
                throw new InvalidDataException(
                    $"'{path}' line {i + 1} is not a valid trial record (expected a JSON object with index, parameters, status, score and seconds).");
            }
        }

        stream.SetLength(keepLength);
        stream.Position = keepLength;
        if (needsNewline)
        {
            stream.WriteByte((byte)'\n'); // a complete last line that lost only its newline
            stream.Flush(flushToDisk: true);
        }

        return recorded;
    }

    private void WriteLine(byte[] line)
    {
        _stream.Write(line);
        _stream.Flush(flushToDisk: true);
    }

    private static List<LineSpan> Split(byte[] content)
    {
        var lines = new List<LineSpan>();
        var start = 0;
        for (var i = 0; i < content.Length; i++)
        {
            if (content[i] == (byte)'\n')
            {
                lines.Add(new LineSpan(start, i - start, Terminated: true));
                start = i + 1;
            }
        }

        if (start < content.Length)
        {
            lines.Add(new LineSpan(start, content.Length - start, Terminated: false));
        }

        return lines;
    }

    private static bool IsBlank(byte[] content, LineSpan line) =>
        content.AsSpan(line.Start, line.Length).Trim(" \t\r"u8).IsEmpty;

    private static bool TryParse(byte[] content, LineSpan line, out JsonDocument? document)
    {
        try
        {
            document = JsonDocument.Parse(content.AsMemory(line.Start, line.Length));
            return true;
        }
        catch (JsonException)
        {
            document = null;
            return false;
        }
    }

    private readonly record struct LineSpan(int Start, int Length, bool Terminated);
}
