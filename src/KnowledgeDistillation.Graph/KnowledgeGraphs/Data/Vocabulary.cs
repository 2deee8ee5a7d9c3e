namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>A bidirectional map between names (entities or relations) and dense ids 0..Count-1, in first-seen order.</summary>
public sealed class Vocabulary
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _names = new();

    /// <summary>The number of names.</summary>
    public int Count => _names.Count;

    /// <summary>The names, indexed by id.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>Returns the id of <paramref name="name"/>, adding it when new.</summary>
    /// <param name="name">A non-empty name.</param>
    public int GetOrAdd(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!_ids.TryGetValue(name, out var id))
        {
            id = _names.Count;
            _ids.Add(name, id);
            _names.Add(name);
        }
        return id;
    }

    /// <summary>Looks a name up.</summary>
    /// <param name="name">The name.</param>
    /// <param name="id">Its id when found.</param>
    /// <returns>Whether the name is known.</returns>
    public bool TryGetId(string name, out int id) => _ids.TryGetValue(name, out id);

    /// <summary>The name of an id.</summary>
    /// <param name="id">An id in [0, Count).</param>
    public string this[int id] => _names[id];
}
