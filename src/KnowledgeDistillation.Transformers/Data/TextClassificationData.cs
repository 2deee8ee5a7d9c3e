using System.Globalization;
using System.Text;

namespace KnowledgeDistillation.Transformers.Data;

/// <summary>Sentences and their class ids, read from a TSV/CSV table.</summary>
public sealed class TextClassificationData
{
    /// <summary>The most classes inferred from integer labels (ids 0..65535) when <see cref="TextTableOptions.Labels"/> is null.</summary>
    public const int MaxInferredClasses = 1 << 16;

    /// <summary>Creates the data.</summary>
    /// <param name="texts">The sentences.</param>
    /// <param name="labels">Class ids, one per sentence, each in [0, classCount).</param>
    /// <param name="labelNames">Name of each class id.</param>
    public TextClassificationData(IReadOnlyList<string> texts, IReadOnlyList<int> labels, IReadOnlyList<string> labelNames)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(labelNames);
        if (texts.Count != labels.Count)
        {
            throw new ArgumentException($"{texts.Count} texts but {labels.Count} labels.", nameof(labels));
        }

        var bad = labels.FirstOrDefault(l => l < 0 || l >= labelNames.Count, -1);
        if (labels.Any(l => l < 0 || l >= labelNames.Count))
        {
            throw new ArgumentException($"Labels must be in [0, {labelNames.Count}); got {bad}.", nameof(labels));
        }

        Texts = texts;
        Labels = labels;
        LabelNames = labelNames;
    }

    /// <summary>The sentences.</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>The class ids.</summary>
    public IReadOnlyList<int> Labels { get; }

    /// <summary>The class names, by id.</summary>
    public IReadOnlyList<string> LabelNames { get; }

    /// <summary>Number of sentences.</summary>
    public int Count => Texts.Count;

    /// <summary>Reads a table.</summary>
    /// <param name="path">The file (UTF-8).</param>
    /// <param name="options">Layout; defaults to GLUE's TSV with <c>sentence</c> and <c>label</c> columns.</param>
    /// <returns>The data.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A column is missing, a row is short, a label is unknown or quoting is broken (the message names the line), or an inferred integer label is not below <see cref="MaxInferredClasses"/>.</exception>
    public static TextClassificationData Read(string path, TextTableOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var o = options ?? new TextTableOptions();
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No table at '{path}'.", path);
        }

        var rows = ReadRows(path, o.Delimiter).ToList();
        var textColumn = Column(o.TextColumn, o.HasHeader ? rows.FirstOrDefault().Fields : null, path, 0, "text");
        var labelColumn = Column(o.LabelColumn, o.HasHeader ? rows.FirstOrDefault().Fields : null, path, 1, "label");
        var body = o.HasHeader ? rows.Skip(1) : rows;
        var texts = new List<string>();
        var rawLabels = new List<string>();
        foreach (var (line, fields) in body)
        {
            if (fields.Length == 1 && fields[0].Length == 0)
            {
                continue;
            }

            if (fields.Length <= Math.Max(textColumn, labelColumn))
            {
                throw new InvalidDataException($"'{path}' line {line}: {fields.Length} columns; the text is column {textColumn} and the label column {labelColumn}.");
            }

            texts.Add(fields[textColumn]);
            rawLabels.Add(fields[labelColumn].Trim());
        }

        var names = o.Labels ?? InferLabels(rawLabels, path);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            ids[names[i]] = i;
        }

        var labels = new int[rawLabels.Count];
        for (var i = 0; i < rawLabels.Count; i++)
        {
            if (!ids.TryGetValue(rawLabels[i], out labels[i]))
            {
                throw new InvalidDataException($"'{path}' row {i + 1}: label '{rawLabels[i]}' is not one of [{string.Join(", ", names)}].");
            }
        }

        return new TextClassificationData(texts, labels, names);
    }

    private static IReadOnlyList<string> InferLabels(List<string> raw, string path)
    {
        var distinct = raw.Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count > 0 && distinct.All(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var max = distinct.Max(l => int.Parse(l, CultureInfo.InvariantCulture));
            if (max >= MaxInferredClasses)
            {
                // Integer labels are class ids 0..max; a huge id would allocate max + 1 class names before any check.
                throw new InvalidDataException(
                    $"'{path}': integer label {max} would make {(long)max + 1} classes; inferred integer class ids must be below {MaxInferredClasses} " +
                    $"(set {nameof(TextTableOptions)}.{nameof(TextTableOptions.Labels)} to name the classes explicitly).");
            }

            return Enumerable.Range(0, Math.Max(max + 1, 2)).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }

        distinct.Sort(StringComparer.Ordinal);
        return distinct;
    }

    private static int Column(string column, string[]? header, string path, int fallback, string what)
    {
        if (int.TryParse(column, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return index;
        }

        if (header is null)
        {
            if (column == (what == "text" ? "sentence" : "label"))
            {
                return fallback;
            }

            throw new InvalidDataException($"'{path}' has no header, so the {what} column must be a 0-based index; got '{column}'.");
        }

        var found = Array.IndexOf(header, column);
        return found >= 0 ? found : throw new InvalidDataException($"'{path}' has no {what} column '{column}'; the header has [{string.Join(", ", header)}].");
    }

    private static IEnumerable<(int Line, string[] Fields)> ReadRows(string path, char delimiter)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        var line = 0;
        string? text;
        while ((text = reader.ReadLine()) is not null)
        {
            line++;
            if (delimiter != ',')
            {
                yield return (line, text.Split(delimiter));
                continue;
            }

            var startLine = line;
            var fields = new List<string>();
            var field = new StringBuilder();
            var quoted = false;
            var i = 0;
            while (true)
            {
                if (i == text.Length)
                {
                    if (!quoted)
                    {
                        break;
                    }

                    text = reader.ReadLine() ?? throw new InvalidDataException($"'{path}' line {startLine}: a quoted field is not closed.");
                    line++;
                    field.Append('\n');
                    i = 0;
                    continue;
                }

                var c = text[i++];
                if (quoted)
                {
                    if (c == '"' && i < text.Length && text[i] == '"')
                    {
                        field.Append('"');
                        i++;
                    }
                    else if (c == '"')
                    {
                        quoted = false;
                    }
                    else
                    {
                        field.Append(c);
                    }
                }
                else if (c == '"' && field.Length == 0)
                {
                    quoted = true;
                }
                else if (c == ',')
                {
                    fields.Add(field.ToString());
                    field.Clear();
                }
                else
                {
                    field.Append(c);
                }
            }

            fields.Add(field.ToString());
            yield return (startLine, fields.ToArray());
        }
    }
}
