namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// Aligned entity pairs between two language-specific knowledge graphs (the same real-world entity in both):
/// <c>(source id, target id)</c>, each id in its own graph's entity space. One-to-one: no source and no target
/// entity appears twice.
/// </summary>
public sealed class EntityAlignment
{
    private readonly Dictionary<int, int> _forward;
    private readonly Dictionary<int, int> _backward;

    /// <summary>Creates an alignment.</summary>
    /// <param name="source">The source language (as named in the <see cref="MultilingualKnowledgeGraph"/>).</param>
    /// <param name="target">The target language.</param>
    /// <param name="pairs">Aligned (source id, target id) pairs; duplicates of an identical pair are dropped.</param>
    /// <exception cref="ArgumentException">A source or target entity is aligned to two different entities, or the languages are equal.</exception>
    public EntityAlignment(string source, string target, IEnumerable<(int Source, int Target)> pairs)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        ArgumentNullException.ThrowIfNull(pairs);
        if (source == target)
        {
            throw new ArgumentException($"An alignment links two different languages; got '{source}' twice.", nameof(target));
        }
        Source = source;
        Target = target;
        _forward = new Dictionary<int, int>();
        _backward = new Dictionary<int, int>();
        var list = new List<(int, int)>();
        foreach (var (s, t) in pairs)
        {
            if (s < 0 || t < 0)
            {
                throw new ArgumentException($"Alignment {source}-{target}: entity ids must be >= 0; got ({s}, {t}).", nameof(pairs));
            }
            if (_forward.TryGetValue(s, out var known))
            {
                if (known == t)
                {
                    continue;
                }
                throw new ArgumentException($"Alignment {source}-{target}: {source} entity {s} is aligned to both {known} and {t}; alignments are one-to-one.", nameof(pairs));
            }
            if (_backward.TryGetValue(t, out var knownSource))
            {
                throw new ArgumentException($"Alignment {source}-{target}: {target} entity {t} is aligned to both {knownSource} and {s}; alignments are one-to-one.", nameof(pairs));
            }
            _forward.Add(s, t);
            _backward.Add(t, s);
            list.Add((s, t));
        }
        Pairs = list;
    }

    /// <summary>The source language.</summary>
    public string Source { get; }

    /// <summary>The target language.</summary>
    public string Target { get; }

    /// <summary>The aligned (source id, target id) pairs, in insertion order.</summary>
    public IReadOnlyList<(int Source, int Target)> Pairs { get; }

    /// <summary>The number of aligned pairs.</summary>
    public int Count => Pairs.Count;

    /// <summary>The target entity aligned to <paramref name="sourceEntity"/>, if any.</summary>
    /// <param name="sourceEntity">A source entity id.</param>
    /// <param name="targetEntity">The aligned target id.</param>
    /// <returns>Whether the source entity is aligned.</returns>
    public bool TryMapForward(int sourceEntity, out int targetEntity) => _forward.TryGetValue(sourceEntity, out targetEntity);

    /// <summary>The source entity aligned to <paramref name="targetEntity"/>, if any.</summary>
    /// <param name="targetEntity">A target entity id.</param>
    /// <param name="sourceEntity">The aligned source id.</param>
    /// <returns>Whether the target entity is aligned.</returns>
    public bool TryMapBackward(int targetEntity, out int sourceEntity) => _backward.TryGetValue(targetEntity, out sourceEntity);

    /// <summary>The same pairs seen from the other side (target, source).</summary>
    /// <returns>The reversed alignment.</returns>
    public EntityAlignment Reverse() => new(Target, Source, Pairs.Select(p => (p.Target, p.Source)));

    /// <summary>This alignment plus new pairs whose source and target are both still unaligned (others are skipped).</summary>
    /// <param name="additional">Candidate pairs (e.g. from CSLS self-learning).</param>
    /// <returns>A new alignment.</returns>
    public EntityAlignment Extend(IEnumerable<(int Source, int Target)> additional)
    {
        ArgumentNullException.ThrowIfNull(additional);
        var fresh = additional.Where(p => !_forward.ContainsKey(p.Source) && !_backward.ContainsKey(p.Target));
        return new EntityAlignment(Source, Target, Pairs.Concat(fresh));
    }
}
