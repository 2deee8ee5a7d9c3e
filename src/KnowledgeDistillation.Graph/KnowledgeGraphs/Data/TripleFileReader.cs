using System.Text;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>Reads <c>head&lt;TAB&gt;relation&lt;TAB&gt;tail</c> lines (the format of the ConvE / RotatE benchmark files).</summary>
/// <remarks>
/// Every malformed line raises an <see cref="InvalidDataException"/> naming the source, the line number and what was
/// expected: a line longer than <see cref="TripleFileReaderOptions.MaxLineBytes"/>, bytes that are not UTF-8, a line
/// without exactly three non-empty tab-separated fields, a name with a control character (such as NUL), or (in
/// validation and test data) an unknown name.
/// </remarks>
public static class TripleFileReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads and parses a triple file, mapping names through the vocabularies.</summary>
    /// <param name="path">The file (UTF-8, one triple a line; blank lines are skipped).</param>
    /// <param name="entities">The entity vocabulary.</param>
    /// <param name="relations">The relation vocabulary.</param>
    /// <param name="addUnknown">True to add unseen names (training data); false to reject them (validation and test data).</param>
    /// <param name="addUnknownEntities">When <paramref name="addUnknown"/> is false, still add unseen entities (but not relations); default false.</param>
    /// <param name="options">The options, or <c>null</c> for <see cref="TripleFileReaderOptions.Default"/>.</param>
    /// <returns>The triples as (head, relation, tail) ids.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">A line is malformed (see the remarks), or names an unknown entity or relation.</exception>
    public static IReadOnlyList<Triple> Read(
        string path, Vocabulary entities, Vocabulary relations, bool addUnknown, bool addUnknownEntities = false, TripleFileReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= TripleFileReaderOptions.Default;
        return Parse(ReadLines(path, options.MaxLineBytes), path, entities, relations, addUnknown, addUnknownEntities);
    }

    /// <summary>Parses triples, mapping names through the vocabularies.</summary>
    /// <param name="lines">The lines; blank lines are skipped.</param>
    /// <param name="source">The file name or description used in error messages.</param>
    /// <param name="entities">The entity vocabulary.</param>
    /// <param name="relations">The relation vocabulary.</param>
    /// <param name="addUnknown">True to add unseen names (training data); false to reject them (validation and test data).</param>
    /// <param name="addUnknownEntities">When <paramref name="addUnknown"/> is false, still add unseen entities (but not relations); default false.</param>
    /// <returns>The triples as (head, relation, tail) ids.</returns>
    /// <exception cref="InvalidDataException">
    /// A line does not have exactly three non-empty tab-separated fields, a name holds a control character, or a line names
    /// an unknown entity or relation.
    /// </exception>
    public static IReadOnlyList<Triple> Parse(IEnumerable<string> lines, string source, Vocabulary entities, Vocabulary relations, bool addUnknown, bool addUnknownEntities = false)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(entities);
        ArgumentNullException.ThrowIfNull(relations);
        var triples = new List<Triple>();
        var lineNumber = 0;
        foreach (var raw in lines)
        {
            lineNumber++;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }
            var fields = line.Split('\t');
            if (fields.Length != 3 || fields.Any(f => f.Trim().Length == 0))
            {
                throw new InvalidDataException(
                    $"{source}, line {lineNumber}: expected 'head<TAB>relation<TAB>tail' (3 non-empty tab-separated fields), got {fields.Length} field(s): '{Truncate(line)}'.");
            }
            var (h, r, t) = (fields[0].Trim(), fields[1].Trim(), fields[2].Trim());
            CheckName(h, "head entity", source, lineNumber);
            CheckName(r, "relation", source, lineNumber);
            CheckName(t, "tail entity", source, lineNumber);
            triples.Add(addUnknown
                ? new Triple(entities.GetOrAdd(h), relations.GetOrAdd(r), entities.GetOrAdd(t))
                : addUnknownEntities
                    ? new Triple(entities.GetOrAdd(h), Known(relations, r, "relation", source, lineNumber), entities.GetOrAdd(t))
                    : new Triple(Known(entities, h, "entity", source, lineNumber), Known(relations, r, "relation", source, lineNumber), Known(entities, t, "entity", source, lineNumber)));
        }
        return triples;
    }

    /// <summary>
    /// The lines of a UTF-8 file (a leading byte-order mark skipped; <c>\n</c> or <c>\r\n</c> breaks), decoded strictly,
    /// with no line longer than <paramref name="maxLineBytes"/> ever buffered.
    /// </summary>
    private static IEnumerable<string> ReadLines(string path, int maxLineBytes)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Triple file '{path}' does not exist.", path);
        }

        return Lines();

        IEnumerable<string> Lines()
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            var buffer = new byte[1 << 16];
            var line = new MemoryStream();
            var lineNumber = 1;
            var first = true;
            int got;
            while ((got = file.Read(buffer)) > 0)
            {
                var start = 0;
                if (first)
                {
                    first = false;
                    if (got >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF)
                    {
                        start = 3;
                    }
                }

                while (start < got)
                {
                    var newline = Array.IndexOf(buffer, (byte)'\n', start, got - start);
                    var end = newline < 0 ? got : newline;
                    if (line.Length + (end - start) > maxLineBytes + 1)
                    {
                        throw TooLong(path, lineNumber, maxLineBytes);
                    }

                    line.Write(buffer, start, end - start);
                    if (newline < 0)
                    {
                        break;
                    }

                    yield return Decode(line, path, lineNumber, maxLineBytes);
                    line.SetLength(0);
                    lineNumber++;
                    start = newline + 1;
                }
            }

            if (line.Length > 0)
            {
                yield return Decode(line, path, lineNumber, maxLineBytes);
            }
        }
    }

    private static string Decode(MemoryStream line, string path, int lineNumber, int maxLineBytes)
    {
        var bytes = line.GetBuffer().AsSpan(0, (int)line.Length);
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r')
        {
            bytes = bytes[..^1];
        }

        // One byte of slack above is for the '\r' of a CRLF break.
        if (bytes.Length > maxLineBytes)
        {
            throw TooLong(path, lineNumber, maxLineBytes);
        }

        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException(
                $"{path}, line {lineNumber}: not valid UTF-8 (byte 0x{e.BytesUnknown?.FirstOrDefault():X2} at byte {e.Index + 1} of the line); " +
                "triple files must be UTF-8 text.", e);
        }
    }

    private static InvalidDataException TooLong(string path, int lineNumber, int maxLineBytes) =>
        new($"{path}, line {lineNumber}: longer than {maxLineBytes} bytes ({nameof(TripleFileReaderOptions)}.{nameof(TripleFileReaderOptions.MaxLineBytes)}); " +
            "expected 'head<TAB>relation<TAB>tail' lines. Is this a triple file?");

    private static void CheckName(string name, string kind, string source, int line)
    {
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsControl(name[i]) || (char.IsSurrogate(name[i]) && !char.IsSurrogatePair(name, i) && !(i > 0 && char.IsSurrogatePair(name, i - 1))))
            {
                throw new InvalidDataException(
                    $"{source}, line {line}: the {kind} name '{Truncate(Escape(name))}' holds U+{(int)name[i]:X4} at character {i + 1}; " +
                    "names must not contain control characters (such as NUL) or unpaired surrogates.");
            }
        }
    }

    private static string Escape(string s)
    {
        var b = new StringBuilder(s.Length);
        foreach (var c in s)
        {
            b.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:X4}" : c);
        }
        return b.ToString();
    }

    private static int Known(Vocabulary vocabulary, string name, string kind, string source, int line) =>
        vocabulary.TryGetId(name, out var id)
            ? id
            : throw new InvalidDataException(
                $"{source}, line {line}: unknown {kind} '{Truncate(name)}' (not in the training triples). " +
                "Validation and test triples may only use relations seen in training (and entities, unless unseen entities are allowed).");

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..77] + "...";
}
