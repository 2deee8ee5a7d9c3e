using System.Globalization;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// Reads implicit feedback from a delimited text file with a header row (e.g. MovieLens <c>ratings.csv</c>). Columns are
/// chosen by header name (<see cref="InteractionReaderOptions"/>); a row is positive when its rating reaches the threshold,
/// or always when there is none. Users and items are remapped to dense ids in order of their first positive row; users and
/// items without a positive row are dropped. A repeated user-item pair is kept once, with its earliest timestamp. Fields are
/// split on the separator without quoting rules (ids and numbers only).
/// </summary>
public static class InteractionReader
{
    /// <summary>Reads a file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Columns and the positive rule (default: MovieLens names, any interaction is positive).</param>
    /// <exception cref="ArgumentException">A named column is not in the header, or a threshold without a rating column.</exception>
    /// <exception cref="InvalidDataException">A row with the wrong field count or an unparsable number (file and line named), or no positive row.</exception>
    public static InteractionData Read(string path, InteractionReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var reader = new StreamReader(path);
        return Read(reader, options, path);
    }

    /// <summary>Reads from a text reader.</summary>
    /// <param name="reader">The text (header first).</param>
    /// <param name="options">Columns and the positive rule.</param>
    /// <param name="source">A name for error messages.</param>
    /// <exception cref="ArgumentException">A named column is not in the header, or a threshold without a rating column.</exception>
    /// <exception cref="InvalidDataException">A malformed row, an empty file, or no positive row.</exception>
    public static InteractionData Read(TextReader reader, InteractionReaderOptions? options = null, string source = "<reader>")
    {
        ArgumentNullException.ThrowIfNull(reader);
        options ??= new InteractionReaderOptions();
        if (options.PositiveThreshold is { } th && !double.IsFinite(th))
        {
            throw new ArgumentOutOfRangeException(nameof(options), th, "PositiveThreshold must be finite or null.");
        }
        if (options.PositiveThreshold is not null && options.RatingColumn is null)
        {
            throw new ArgumentException("PositiveThreshold needs a RatingColumn.", nameof(options));
        }
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{source}: the file is empty (a header row is expected).");
        var names = header.Split(options.Separator).Select(n => n.Trim()).ToArray();
        int Column(string? name, string option)
        {
            if (name is null)
            {
                return -1;
            }
            var index = Array.IndexOf(names, name);
            if (index < 0)
            {
                throw new ArgumentException(
                    $"{source}: column '{name}' ({option}) is not in the header; the columns are: {string.Join(", ", names.Select(n => $"'{n}'"))}.",
                    nameof(options));
            }
            return index;
        }
        var userColumn = Column(options.UserColumn, nameof(options.UserColumn));
        var itemColumn = Column(options.ItemColumn, nameof(options.ItemColumn));
        var ratingColumn = Column(options.RatingColumn, nameof(options.RatingColumn));
        var timeColumn = Column(options.TimestampColumn, nameof(options.TimestampColumn));

        var users = new Dictionary<string, int>(StringComparer.Ordinal);
        var items = new Dictionary<string, int>(StringComparer.Ordinal);
        var userIds = new List<string>();
        var itemIds = new List<string>();
        var earliest = new Dictionary<(int, int), long>();
        var order = new List<(int, int)>();
        long lineNumber = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }
            var fields = line.Split(options.Separator);
            if (fields.Length != names.Length)
            {
                throw new InvalidDataException($"{source}, line {lineNumber}: {fields.Length} fields, the header has {names.Length}.");
            }
            if (options.PositiveThreshold is { } threshold)
            {
                if (!double.TryParse(fields[ratingColumn], NumberStyles.Float, CultureInfo.InvariantCulture, out var rating))
                {
                    throw new InvalidDataException($"{source}, line {lineNumber}: rating '{fields[ratingColumn]}' is not a number.");
                }
                if (rating < threshold)
                {
                    continue;
                }
            }
            long time = lineNumber;
            if (timeColumn >= 0 && !long.TryParse(fields[timeColumn], NumberStyles.Integer, CultureInfo.InvariantCulture, out time))
            {
                throw new InvalidDataException($"{source}, line {lineNumber}: timestamp '{fields[timeColumn]}' is not an integer.");
            }
            var userKey = fields[userColumn].Trim();
            var itemKey = fields[itemColumn].Trim();
            if (userKey.Length == 0 || itemKey.Length == 0)
            {
                throw new InvalidDataException($"{source}, line {lineNumber}: empty user or item id.");
            }
            if (!users.TryGetValue(userKey, out var user))
            {
                user = users[userKey] = userIds.Count;
                userIds.Add(userKey);
            }
            if (!items.TryGetValue(itemKey, out var item))
            {
                item = items[itemKey] = itemIds.Count;
                itemIds.Add(itemKey);
            }
            if (earliest.TryGetValue((user, item), out var seen))
            {
                earliest[(user, item)] = Math.Min(seen, time);
            }
            else
            {
                earliest[(user, item)] = time;
                order.Add((user, item));
            }
        }
        if (order.Count == 0)
        {
            throw new InvalidDataException($"{source}: no positive interaction (rows: {lineNumber - 1}; threshold: {options.PositiveThreshold?.ToString(CultureInfo.InvariantCulture) ?? "none"}).");
        }
        var interactions = order.Select(p => new Interaction(p.Item1, p.Item2, earliest[p])).ToArray();
        return new InteractionData(interactions, userIds, itemIds);
    }
}
