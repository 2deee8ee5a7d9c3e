using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;

/// <summary>
/// One epoch of KEnS training as a single batch stream: every language's training triples in batches (knowledge
/// steps, extra <see cref="LanguageKey"/> = the language's index) interleaved with alignment steps (extra
/// <see cref="AlignmentKey"/> = the index of a pair in <see cref="MultilingualKnowledgeGraph.Pairs"/>), one alignment step
/// after every <see cref="KnowledgeStepsPerAlignment"/> knowledge steps, cycling over the pairs. The order is a pure
/// function of (seed, epoch). The alternation of the official code (knowledge steps, then alignment steps) is thus a
/// data schedule inside one <c>Distiller</c> run.
/// </summary>
public sealed class MultilingualBatchSource : IBatchSource
{
    /// <summary>Extra holding the language index [1] of a knowledge batch.</summary>
    public const string LanguageKey = "kg_language";

    /// <summary>Extra holding the aligned-pair index [1] of an alignment batch.</summary>
    public const string AlignmentKey = "kg_alignment";

    private readonly TripleBatchSource[] _sources;
    private readonly int _pairs;

    /// <summary>Creates the source.</summary>
    /// <param name="graph">The multilingual graph.</param>
    /// <param name="batchSize">Triples per knowledge batch.</param>
    /// <param name="negatives">Uniform negative entities per triple (of the triple's own language).</param>
    /// <param name="knowledgeStepsPerAlignment">Knowledge steps between two alignment steps (>= 1).</param>
    /// <param name="seed">Shuffling and negative-sampling seed.</param>
    /// <param name="alignmentSteps">False: knowledge steps only (every language's model trained alone, the single-KG baseline).</param>
    public MultilingualBatchSource(MultilingualKnowledgeGraph graph, int batchSize, int negatives, int knowledgeStepsPerAlignment = 4, int seed = 0, bool alignmentSteps = true)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentOutOfRangeException.ThrowIfLessThan(knowledgeStepsPerAlignment, 1);
        Graph = graph;
        _sources = graph.Languages
            .Select((l, i) => new TripleBatchSource(graph[l].Train, graph[l].EntityCount, batchSize, negatives, unchecked(seed * 31 + i), CorruptionMode.Tail))
            .ToArray();
        _pairs = alignmentSteps ? graph.Pairs.Count : 0;
        KnowledgeStepsPerAlignment = knowledgeStepsPerAlignment;
        Seed = seed;
    }

    /// <summary>The graph.</summary>
    public MultilingualKnowledgeGraph Graph { get; }

    /// <summary>Knowledge steps between two alignment steps.</summary>
    public int KnowledgeStepsPerAlignment { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>Knowledge batches per epoch (all languages).</summary>
    public int KnowledgeBatchCount => _sources.Sum(s => s.BatchCount);

    /// <inheritdoc />
    public int BatchCount => KnowledgeBatchCount + (_pairs > 0 ? KnowledgeBatchCount / KnowledgeStepsPerAlignment : 0);

    /// <inheritdoc />
    public long SampleCount => _sources.Sum(s => s.SampleCount);

    /// <inheritdoc />
    public int? ClassCount => null;

    /// <inheritdoc />
    public IEnumerable<Batch> GetBatches(int epoch, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var order = _sources.SelectMany((s, i) => Enumerable.Repeat(i, s.BatchCount)).ToArray();
        new Random(unchecked(Seed * 1_000_003 + epoch)).Shuffle(order);
        var streams = _sources.Select(s => s.GetBatches(epoch, device).GetEnumerator()).ToArray();
        try
        {
            var knowledgeSteps = 0;
            var pair = 0;
            foreach (var language in order)
            {
                if (!streams[language].MoveNext())
                {
                    throw new InvalidOperationException("A language's batch stream ended early.");
                }
                var b = streams[language].Current;
                var extras = new Dictionary<string, Tensor>(b.Extras) { [LanguageKey] = tensor(new long[] { language }, device: device) };
                yield return new Batch(b.Inputs, null, b.Indices, extras);
                if (++knowledgeSteps % KnowledgeStepsPerAlignment == 0 && _pairs > 0)
                {
                    yield return AlignmentBatch(pair, device);
                    pair = (pair + 1) % _pairs;
                }
            }
        }
        finally
        {
            foreach (var s in streams)
            {
                s.Dispose();
            }
        }
    }

    private static Batch AlignmentBatch(int pair, Device device) =>
        new(tensor(new long[] { pair }, device: device), null, tensor(new long[] { 0 }, device: device),
            new Dictionary<string, Tensor> { [AlignmentKey] = tensor(new long[] { pair }, device: device) });

    /// <summary>The language index of a knowledge batch, or null for an alignment batch.</summary>
    /// <param name="batch">A batch from this source.</param>
    /// <returns>The index into <see cref="MultilingualKnowledgeGraph.Languages"/>.</returns>
    public static int? LanguageOf(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return batch.Extras.TryGetValue(LanguageKey, out var l) ? (int)l.cpu().item<long>() : null;
    }

    /// <summary>The pair index of an alignment batch, or null for a knowledge batch.</summary>
    /// <param name="batch">A batch from this source.</param>
    /// <returns>The index into <see cref="MultilingualKnowledgeGraph.Pairs"/>.</returns>
    public static int? PairOf(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return batch.Extras.TryGetValue(AlignmentKey, out var p) ? (int)p.cpu().item<long>() : null;
    }
}
