using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// The current entity alignment of every aligned language pair: the seed pairs plus those self-learning added. It is
/// loss state (<see cref="ILossState"/>), so a checkpoint holds the grown alignment and a resumed run continues from it.
/// Exported as one int64 tensor [pairs, 2] per language pair, named <c>a-b</c>.
/// </summary>
public sealed class AlignmentState : ILossState
{
    private readonly MultilingualKnowledgeGraph _graph;
    private readonly EntityAlignment[] _current;

    /// <summary>Starts from the graph's seed alignments.</summary>
    /// <param name="graph">The multilingual graph.</param>
    public AlignmentState(MultilingualKnowledgeGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        _graph = graph;
        _current = graph.Pairs.Select(p => graph.Alignment(p.A, p.B)).ToArray();
    }

    /// <inheritdoc />
    public string Name => "kens.alignment";

    /// <summary>Increments each time the alignment changes (lets users of the pairs refresh device copies).</summary>
    public int Version { get; private set; }

    /// <summary>The current alignment of pair <paramref name="pair"/> (index into <see cref="MultilingualKnowledgeGraph.Pairs"/>), oriented A → B.</summary>
    /// <param name="pair">The pair index.</param>
    /// <returns>The alignment.</returns>
    public EntityAlignment this[int pair] => _current[pair];

    /// <summary>The current alignment oriented <paramref name="source"/> → <paramref name="target"/>.</summary>
    /// <param name="source">A language.</param>
    /// <param name="target">Another language.</param>
    /// <returns>The alignment, or null when the languages are not aligned.</returns>
    public EntityAlignment? Between(string source, string target)
    {
        for (var p = 0; p < _current.Length; p++)
        {
            var (a, b) = _graph.Pairs[p];
            if (a == source && b == target)
            {
                return _current[p];
            }
            if (a == target && b == source)
            {
                return _current[p].Reverse();
            }
        }
        return null;
    }

    /// <summary>Adds pairs to one language pair's alignment (pairs touching an already aligned entity are skipped).</summary>
    /// <param name="pair">The pair index.</param>
    /// <param name="pairs">New (A id, B id) pairs.</param>
    /// <returns>How many were added.</returns>
    public int Extend(int pair, IEnumerable<(int A, int B)> pairs)
    {
        var before = _current[pair].Count;
        _current[pair] = _current[pair].Extend(pairs.Select(p => (p.A, p.B)));
        Version++;
        return _current[pair].Count - before;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Tensor> Export() =>
        _graph.Pairs.Select((p, i) => (Key: $"{p.A}-{p.B}", Value: ToTensor(_current[i]))).ToDictionary(x => x.Key, x => x.Value);

    /// <inheritdoc />
    public void Import(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var restored = new EntityAlignment[_current.Length];
        for (var i = 0; i < _current.Length; i++)
        {
            var (a, b) = _graph.Pairs[i];
            var key = $"{a}-{b}";
            if (!state.TryGetValue(key, out var t) || t.dtype != ScalarType.Int64 || t.dim() != 2 || t.shape[1] != 2)
            {
                throw new InvalidDataException($"Alignment state '{Name}': entry '{key}' is missing or not an int64 [pairs, 2] tensor.");
            }
            var data = t.cpu().data<long>().ToArray();
            var pairs = new (int, int)[data.Length / 2];
            for (var k = 0; k < pairs.Length; k++)
            {
                if (data[2 * k] < 0 || data[2 * k] >= _graph[a].EntityCount || data[2 * k + 1] < 0 || data[2 * k + 1] >= _graph[b].EntityCount)
                {
                    throw new InvalidDataException($"Alignment state '{Name}': entry '{key}' row {k} ({data[2 * k]}, {data[2 * k + 1]}) is outside the graphs' entities.");
                }
                pairs[k] = ((int)data[2 * k], (int)data[2 * k + 1]);
            }
            restored[i] = new EntityAlignment(a, b, pairs);
        }
        if (state.Count != _current.Length)
        {
            throw new InvalidDataException($"Alignment state '{Name}': expected {_current.Length} entries, got {state.Count}.");
        }
        restored.CopyTo(_current, 0);
        Version++;
    }

    /// <summary>The pairs of an alignment as an int64 [pairs, 2] tensor.</summary>
    /// <param name="alignment">The alignment.</param>
    /// <returns>The tensor (CPU).</returns>
    public static Tensor ToTensor(EntityAlignment alignment)
    {
        ArgumentNullException.ThrowIfNull(alignment);
        var data = new long[alignment.Count * 2];
        for (var i = 0; i < alignment.Count; i++)
        {
            (data[2 * i], data[2 * i + 1]) = (alignment.Pairs[i].Source, alignment.Pairs[i].Target);
        }
        return tensor(data, new long[] { alignment.Count, 2 });
    }
}
