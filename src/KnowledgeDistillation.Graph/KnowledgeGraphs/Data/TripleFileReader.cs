namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>Reads <c>head&lt;TAB&gt;relation&lt;TAB&gt;tail</c> lines (the format of the ConvE / RotatE benchmark files).</summary>
public static class TripleFileReader
{
    /// <summary>Parses triples, mapping names through the vocabularies.</summary>
    /// <param name="lines">The lines; blank lines are skipped.</param>
    /// <param name="source">The file name or description used in error messages.</param>
    /// <param name="entities">The entity vocabulary.</param>
    /// <param name="relations">The relation vocabulary.</param>
    /// <param name="addUnknown">True to add unseen names (training data); false to reject them (validation and test data).</param>
    /// <param name="addUnknownEntities">When <paramref name="addUnknown"/> is false, still add unseen entities (but not relations); default false.</param>
    /// <returns>The triples as (head, relation, tail) ids.</returns>
    /// <exception cref="FormatException">A line does not have exactly three non-empty tab-separated fields, or names an unknown entity or relation.</exception>
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
                throw new FormatException(
                    $"{source}, line {lineNumber}: expected 'head<TAB>relation<TAB>tail' (3 non-empty tab-separated fields), got {fields.Length} field(s): '{Truncate(line)}'.");
            }
            var (h, r, t) = (fields[0].Trim(), fields[1].Trim(), fields[2].Trim());
            triples.Add(addUnknown
                ? new Triple(entities.GetOrAdd(h), relations.GetOrAdd(r), entities.GetOrAdd(t))
                : addUnknownEntities
                    ? new Triple(entities.GetOrAdd(h), Known(relations, r, "relation", source, lineNumber), entities.GetOrAdd(t))
                    : new Triple(Known(entities, h, "entity", source, lineNumber), Known(relations, r, "relation", source, lineNumber), Known(entities, t, "entity", source, lineNumber)));
        }
        return triples;
    }

    private static int Known(Vocabulary vocabulary, string name, string kind, string source, int line) =>
        vocabulary.TryGetId(name, out var id)
            ? id
            : throw new FormatException(
                $"{source}, line {line}: unknown {kind} '{Truncate(name)}' (not in the training triples). " +
                "Validation and test triples may only use relations seen in training (and entities, unless unseen entities are allowed).");

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..77] + "...";
}
