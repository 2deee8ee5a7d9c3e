using System.Globalization;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// Reads a multilingual knowledge graph in the DBP-5L layout of KEnS (stasl0217/KEnS <c>data/</c>), which is also the
/// layout for your own data:
/// <list type="bullet">
/// <item><c>relations.txt</c>: the shared relation list, one name a line (line i = relation id i-1);</item>
/// <item><c>entity/&lt;lang&gt;.tsv</c>: the entities of one language, one name a line (line i = entity id i-1);</item>
/// <item><c>kg/&lt;lang&gt;-{train,val,test}.tsv</c>: <c>head&lt;TAB&gt;relation&lt;TAB&gt;tail</c> integer ids;</item>
/// <item><c>seed_alignlinks/&lt;a&gt;-&lt;b&gt;.tsv</c>: <c>id_in_a&lt;TAB&gt;id_in_b</c> (integers, or floats with a zero fraction such as <c>3931.0</c>).</item>
/// </list>
/// Every malformed line is an <see cref="InvalidDataException"/> naming the file and the line.
/// </summary>
public static class Dbp5lReader
{
    /// <summary>Loads the languages of a DBP-5L-style directory.</summary>
    /// <param name="directory">The data directory.</param>
    /// <param name="languages">Languages to load (default: every language with a <c>kg/&lt;lang&gt;-train.tsv</c>, sorted).</param>
    /// <returns>The multilingual graph with the seed alignments among the loaded languages.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">A required file is missing.</exception>
    /// <exception cref="InvalidDataException">A line is malformed or names an entity or relation outside its list (file and line in the message).</exception>
    /// <exception cref="ArgumentException">A language has no alignment to any other loaded language.</exception>
    public static MultilingualKnowledgeGraph Load(string directory, IReadOnlyList<string>? languages = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"DBP-5L directory '{directory}' does not exist (expected relations.txt, entity/, kg/, seed_alignlinks/).");
        }
        var kgDir = Path.Combine(directory, "kg");
        languages ??= Directory.Exists(kgDir)
            ? Directory.GetFiles(kgDir, "*-train.tsv").Select(f => Path.GetFileName(f)[..^"-train.tsv".Length]).Order(StringComparer.Ordinal).ToArray()
            : Array.Empty<string>();
        if (languages.Count < 2)
        {
            throw new InvalidDataException($"'{kgDir}' must hold <lang>-train.tsv files for at least two languages; found {languages.Count}.");
        }
        var relations = Names(Path.Combine(directory, "relations.txt"));
        var graphs = new Dictionary<string, KnowledgeGraph>();
        foreach (var language in languages)
        {
            var entities = Names(Path.Combine(directory, "entity", language + ".tsv"));
            IReadOnlyList<Triple> Split(string split) => Triples(Path.Combine(kgDir, $"{language}-{split}.tsv"), entities.Count, relations.Count);
            graphs[language] = new KnowledgeGraph(entities.Count, relations.Count, Split("train"), Split("val"), Split("test"), entities, relations);
        }
        var alignments = new List<EntityAlignment>();
        var alignDir = Path.Combine(directory, "seed_alignlinks");
        for (var i = 0; i < languages.Count; i++)
        {
            for (var j = 0; j < languages.Count; j++)
            {
                var path = Path.Combine(alignDir, $"{languages[i]}-{languages[j]}.tsv");
                if (i != j && File.Exists(path))
                {
                    alignments.Add(Alignment(path, languages[i], languages[j], graphs[languages[i]].EntityCount, graphs[languages[j]].EntityCount));
                }
            }
        }
        foreach (var language in languages)
        {
            if (!alignments.Any(a => a.Source == language || a.Target == language))
            {
                throw new InvalidDataException(
                    $"Language '{language}' has no entity alignment to any other loaded language: expected a file '{Path.Combine(alignDir, language + "-<other>.tsv")}' " +
                    $"or '<other>-{language}.tsv' there (looked for {string.Join(", ", languages.Where(l => l != language))}).");
            }
        }
        return new MultilingualKnowledgeGraph(graphs, alignments);
    }

    /// <summary>Reads one seed alignment file (<c>id_in_source&lt;TAB&gt;id_in_target</c> a line).</summary>
    /// <param name="path">The file.</param>
    /// <param name="source">The language of the first column.</param>
    /// <param name="target">The language of the second column.</param>
    /// <param name="sourceEntities">The number of source entities (ids must be below it).</param>
    /// <param name="targetEntities">The number of target entities.</param>
    /// <returns>The alignment.</returns>
    /// <exception cref="InvalidDataException">A malformed line, an unknown entity, or an entity aligned twice (file and line in the message).</exception>
    public static EntityAlignment Alignment(string path, string source, string target, int sourceEntities, int targetEntities)
    {
        var pairs = new List<(int, int)>();
        var seenSource = new Dictionary<int, int>();
        var seenTarget = new Dictionary<int, int>();
        var line = 0;
        foreach (var raw in Lines(path))
        {
            line++;
            if (raw.Trim().Length == 0)
            {
                continue;
            }
            var fields = raw.TrimEnd('\r').Split('\t');
            if (fields.Length != 2)
            {
                throw new InvalidDataException($"{path}, line {line}: expected '<{source} id><TAB><{target} id>', got {fields.Length} field(s).");
            }
            var s = Id(fields[0], path, line, $"{source} entity", sourceEntities);
            var t = Id(fields[1], path, line, $"{target} entity", targetEntities);
            if (seenSource.TryGetValue(s, out var other) && pairs[other].Item2 != t)
            {
                throw new InvalidDataException($"{path}, line {line}: {source} entity {s} is already aligned to {target} entity {pairs[other].Item2} (line {other + 1}); alignments are one-to-one.");
            }
            if (seenTarget.TryGetValue(t, out other) && pairs[other].Item1 != s)
            {
                throw new InvalidDataException($"{path}, line {line}: {target} entity {t} is already aligned to {source} entity {pairs[other].Item1}; alignments are one-to-one.");
            }
            seenSource.TryAdd(s, pairs.Count);
            seenTarget.TryAdd(t, pairs.Count);
            pairs.Add((s, t));
        }
        return new EntityAlignment(source, target, pairs);
    }

    private static List<Triple> Triples(string path, int entities, int relations)
    {
        var triples = new List<Triple>();
        var line = 0;
        foreach (var raw in Lines(path))
        {
            line++;
            if (raw.Trim().Length == 0)
            {
                continue;
            }
            var fields = raw.TrimEnd('\r').Split('\t');
            if (fields.Length != 3)
            {
                throw new InvalidDataException($"{path}, line {line}: expected 'head<TAB>relation<TAB>tail' integer ids, got {fields.Length} field(s).");
            }
            triples.Add(new Triple(
                Id(fields[0], path, line, "head entity", entities),
                Id(fields[1], path, line, "relation", relations, " (relations.txt is the shared relation list of all languages)"),
                Id(fields[2], path, line, "tail entity", entities)));
        }
        if (triples.Count == 0)
        {
            throw new InvalidDataException($"{path}: no triples.");
        }
        return triples;
    }

    private static Vocabulary Names(string path)
    {
        var vocabulary = new Vocabulary();
        var line = 0;
        foreach (var raw in Lines(path))
        {
            line++;
            var name = raw.TrimEnd('\r').Split('\t')[0];
            if (name.Length == 0)
            {
                throw new InvalidDataException($"{path}, line {line}: empty name; every line names one entity or relation (its id is the line number - 1).");
            }
            // DBP-5L repeats a few names (e.g. el.tsv lines 748/749); the id is the line, so a repeat gets the name "name#line".
            if (vocabulary.GetOrAdd(vocabulary.TryGetId(name, out _) ? $"{name}#{line}" : name) != line - 1)
            {
                throw new InvalidDataException($"{path}, line {line}: '{name}#{line}' already appears on an earlier line; names must be unique.");
            }
        }
        return vocabulary;
    }

    private static int Id(string field, string path, int line, string kind, int count, string hint = "")
    {
        if (!double.TryParse(field.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value != Math.Floor(value) || double.IsInfinity(value))
        {
            throw new InvalidDataException($"{path}, line {line}: {kind} id '{field}' is not an integer.");
        }
        if (value < 0 || value >= count)
        {
            throw new InvalidDataException($"{path}, line {line}: unknown {kind} {value.ToString(CultureInfo.InvariantCulture)}; ids must be in [0, {count - 1}]{hint}.");
        }
        return (int)value;
    }

    private static IEnumerable<string> Lines(string path) =>
        File.Exists(path) ? File.ReadLines(path) : throw new FileNotFoundException($"'{path}' is missing (DBP-5L layout: relations.txt, entity/<lang>.tsv, kg/<lang>-{{train,val,test}}.tsv, seed_alignlinks/<a>-<b>.tsv).", path);
}
