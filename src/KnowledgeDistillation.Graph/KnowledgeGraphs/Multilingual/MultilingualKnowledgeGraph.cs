namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// Several language-specific knowledge graphs (each with its own entity space) over one shared relation list, tied
/// by seed entity alignments between pairs of languages (KEnS, Chen et al. 2020). Relation id <c>r</c> means the same
/// relation in every language.
/// </summary>
public sealed class MultilingualKnowledgeGraph
{
    private readonly Dictionary<string, KnowledgeGraph> _graphs;
    private readonly Dictionary<(string, string), EntityAlignment> _alignments = new();

    /// <summary>Creates the multilingual graph and checks it.</summary>
    /// <param name="graphs">One knowledge graph per language (at least two), by language name.</param>
    /// <param name="alignments">Seed alignments between pairs of languages (either orientation; at most one per pair).</param>
    /// <exception cref="ArgumentException">
    /// Fewer than two languages; relation lists that differ between languages (count or names); an alignment naming an
    /// unknown language or an entity outside its graph; a language with no alignment to any other.
    /// </exception>
    public MultilingualKnowledgeGraph(IReadOnlyDictionary<string, KnowledgeGraph> graphs, IEnumerable<EntityAlignment> alignments)
    {
        ArgumentNullException.ThrowIfNull(graphs);
        ArgumentNullException.ThrowIfNull(alignments);
        if (graphs.Count < 2)
        {
            throw new ArgumentException($"A multilingual knowledge graph needs at least two languages; got {graphs.Count}.", nameof(graphs));
        }
        Languages = graphs.Keys.ToArray();
        _graphs = new Dictionary<string, KnowledgeGraph>(graphs);
        var first = Languages[0];
        var reference = graphs[first];
        foreach (var language in Languages.Skip(1))
        {
            var graph = graphs[language];
            if (graph.RelationCount != reference.RelationCount)
            {
                throw new ArgumentException(
                    $"Mismatched relation lists: '{first}' has {reference.RelationCount} relations, '{language}' has {graph.RelationCount}; " +
                    "the languages of a multilingual graph share one relation list (relation id r is the same relation everywhere).", nameof(graphs));
            }
            for (var r = 0; r < graph.RelationCount; r++)
            {
                if (graph.Relations[r] != reference.Relations[r])
                {
                    throw new ArgumentException(
                        $"Mismatched relation lists: relation {r} is '{reference.Relations[r]}' in '{first}' but '{graph.Relations[r]}' in '{language}'.", nameof(graphs));
                }
            }
        }
        RelationCount = reference.RelationCount;
        foreach (var alignment in alignments)
        {
            ArgumentNullException.ThrowIfNull(alignment, nameof(alignments));
            var source = Graph(alignment.Source, nameof(alignments));
            var target = Graph(alignment.Target, nameof(alignments));
            foreach (var (s, t) in alignment.Pairs)
            {
                if (s >= source.EntityCount || t >= target.EntityCount)
                {
                    throw new ArgumentException(
                        $"Alignment {alignment.Source}-{alignment.Target}: pair ({s}, {t}) names an entity outside '{alignment.Source}' [0, {source.EntityCount - 1}] " +
                        $"or '{alignment.Target}' [0, {target.EntityCount - 1}].", nameof(alignments));
                }
            }
            if (_alignments.ContainsKey((alignment.Source, alignment.Target)))
            {
                throw new ArgumentException($"Two alignments between '{alignment.Source}' and '{alignment.Target}'; give one per pair of languages.", nameof(alignments));
            }
            _alignments[(alignment.Source, alignment.Target)] = alignment;
            _alignments[(alignment.Target, alignment.Source)] = alignment.Reverse();
        }
        foreach (var language in Languages)
        {
            if (!Languages.Any(other => other != language && _alignments.ContainsKey((language, other))))
            {
                throw new ArgumentException(
                    $"Language '{language}' has no entity alignment to any other language; KEnS transfers knowledge only through aligned entities.", nameof(alignments));
            }
        }
        Pairs = Languages.SelectMany((a, i) => Languages.Skip(i + 1).Where(b => _alignments.ContainsKey((a, b))).Select(b => (a, b))).ToArray();
    }

    /// <summary>The language names, in the order given.</summary>
    public IReadOnlyList<string> Languages { get; }

    /// <summary>The shared number of relations.</summary>
    public int RelationCount { get; }

    /// <summary>The aligned language pairs (a, b) with a before b in <see cref="Languages"/>.</summary>
    public IReadOnlyList<(string A, string B)> Pairs { get; }

    /// <summary>The knowledge graph of one language.</summary>
    /// <param name="language">A language name.</param>
    /// <returns>Its graph.</returns>
    public KnowledgeGraph this[string language] => Graph(language, nameof(language));

    /// <summary>Whether two languages have a seed alignment.</summary>
    /// <param name="source">One language.</param>
    /// <param name="target">Another language.</param>
    /// <returns>True when aligned.</returns>
    public bool HasAlignment(string source, string target) => _alignments.ContainsKey((source, target));

    /// <summary>The seed alignment oriented source → target.</summary>
    /// <param name="source">The source language.</param>
    /// <param name="target">The target language.</param>
    /// <returns>The alignment.</returns>
    /// <exception cref="KeyNotFoundException">The two languages have no alignment.</exception>
    public EntityAlignment Alignment(string source, string target) =>
        _alignments.TryGetValue((source, target), out var a)
            ? a
            : throw new KeyNotFoundException($"No entity alignment between '{source}' and '{target}'.");

    private KnowledgeGraph Graph(string language, string argument) =>
        _graphs.TryGetValue(language, out var g)
            ? g
            : throw new ArgumentException($"Unknown language '{language}'; the graph has {string.Join(", ", Languages)}.", argument);
}
