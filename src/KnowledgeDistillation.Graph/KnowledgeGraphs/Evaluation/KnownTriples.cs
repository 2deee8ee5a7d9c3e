namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// The known-true triples of filtered evaluation, indexed both ways: (head, relation) → tails and (relation, tail) → heads,
/// each stored as a sorted, distinct id array.
/// </summary>
public sealed class KnownTriples
{
    private readonly Dictionary<long, int[]> _tails;
    private readonly Dictionary<long, int[]> _heads;
    private readonly long _entityCount;

    /// <summary>Indexes triples.</summary>
    /// <param name="entityCount">The number of entities.</param>
    /// <param name="relationCount">The number of relations.</param>
    /// <param name="triples">The known-true triples (usually train + valid + test).</param>
    public KnownTriples(int entityCount, int relationCount, IEnumerable<Triple> triples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(entityCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(relationCount, 1);
        ArgumentNullException.ThrowIfNull(triples);
        _entityCount = entityCount;
        var tails = new Dictionary<long, List<int>>();
        var heads = new Dictionary<long, List<int>>();
        foreach (var t in triples)
        {
            Add(tails, Key(t.Head, t.Relation), t.Tail);
            Add(heads, Key(t.Tail, t.Relation), t.Head);
        }
        _tails = tails.ToDictionary(p => p.Key, p => p.Value.Distinct().Order().ToArray());
        _heads = heads.ToDictionary(p => p.Key, p => p.Value.Distinct().Order().ToArray());
    }

    /// <summary>Every known tail of (head, relation).</summary>
    /// <param name="head">The head id.</param>
    /// <param name="relation">The relation id.</param>
    public ReadOnlySpan<int> Tails(int head, int relation) => _tails.TryGetValue(Key(head, relation), out var ids) ? ids : ReadOnlySpan<int>.Empty;

    /// <summary>Every known head of (relation, tail).</summary>
    /// <param name="relation">The relation id.</param>
    /// <param name="tail">The tail id.</param>
    public ReadOnlySpan<int> Heads(int relation, int tail) => _heads.TryGetValue(Key(tail, relation), out var ids) ? ids : ReadOnlySpan<int>.Empty;

    private long Key(int entity, int relation) => (long)relation * _entityCount + entity;

    private static void Add(Dictionary<long, List<int>> map, long key, int value)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = new List<int>();
        }
        list.Add(value);
    }
}
