using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>A knowledge graph split into train/valid/test triples over shared entity and relation vocabularies.</summary>
public sealed class KnowledgeGraph
{
    /// <summary>Creates a graph from id triples (tests build tiny graphs this way).</summary>
    /// <param name="entityCount">The number of entities, &gt;= 1.</param>
    /// <param name="relationCount">The number of relations, &gt;= 1.</param>
    /// <param name="train">Training triples (non-empty).</param>
    /// <param name="valid">Validation triples.</param>
    /// <param name="test">Test triples.</param>
    /// <param name="entities">Entity names, or <c>null</c> for "e0", "e1", ...</param>
    /// <param name="relations">Relation names, or <c>null</c> for "r0", "r1", ...</param>
    /// <exception cref="ArgumentException">A count is not positive, the training set is empty, or an id is out of range.</exception>
    public KnowledgeGraph(
        int entityCount,
        int relationCount,
        IReadOnlyList<Triple> train,
        IReadOnlyList<Triple>? valid = null,
        IReadOnlyList<Triple>? test = null,
        Vocabulary? entities = null,
        Vocabulary? relations = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(entityCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(relationCount, 1);
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0)
        {
            throw new ArgumentException("The training triples are empty.", nameof(train));
        }
        EntityCount = entityCount;
        RelationCount = relationCount;
        Train = Check(train, nameof(train));
        Valid = Check(valid ?? Array.Empty<Triple>(), nameof(valid));
        Test = Check(test ?? Array.Empty<Triple>(), nameof(test));
        Entities = entities ?? Numbered("e", entityCount);
        Relations = relations ?? Numbered("r", relationCount);
    }

    /// <summary>The number of entities.</summary>
    public int EntityCount { get; }

    /// <summary>The number of relations.</summary>
    public int RelationCount { get; }

    /// <summary>Training triples.</summary>
    public IReadOnlyList<Triple> Train { get; }

    /// <summary>Validation triples.</summary>
    public IReadOnlyList<Triple> Valid { get; }

    /// <summary>Test triples.</summary>
    public IReadOnlyList<Triple> Test { get; }

    /// <summary>Entity names by id.</summary>
    public Vocabulary Entities { get; }

    /// <summary>Relation names by id.</summary>
    public Vocabulary Relations { get; }

    /// <summary>
    /// Loads <c>train.txt</c>, <c>valid.txt</c> and <c>test.txt</c> from a directory (the ConvE layout of WN18RR, FB15k-237,
    /// kinship, umls, nations). Entities and relations are numbered in order of first appearance (train, then valid, then test).
    /// Relations of valid/test must appear in training. Entities that appear only in valid/test (WN18RR has a few) get ids by
    /// default, as in the usual 40,943-entity vocabulary, so they are ranked as candidates; pass
    /// <paramref name="allowUnseenEntities"/> = false to reject them instead.
    /// </summary>
    /// <param name="directory">The directory.</param>
    /// <param name="allowUnseenEntities">Whether valid/test may introduce entities absent from training (default true).</param>
    /// <param name="options">How the files are read (the line-length limit), or <c>null</c> for <see cref="TripleFileReaderOptions.Default"/>.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">A split file is missing.</exception>
    /// <exception cref="InvalidDataException">
    /// A line is malformed (too long, not UTF-8, not three tab-separated names, a name with a control character; see
    /// <see cref="TripleFileReader"/>), or valid/test names an unknown entity or relation. The message names the file and line.
    /// </exception>
    public static KnowledgeGraph Load(string directory, bool allowUnseenEntities = true, TripleFileReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Knowledge-graph directory '{directory}' does not exist (expected train.txt, valid.txt, test.txt).");
        }
        var entities = new Vocabulary();
        var relations = new Vocabulary();
        IReadOnlyList<Triple> Read(string name, bool train)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"'{path}' is missing; a knowledge-graph directory needs train.txt, valid.txt and test.txt.", path);
            }
            return TripleFileReader.Read(path, entities, relations, addUnknown: train, addUnknownEntities: allowUnseenEntities, options);
        }
        var trainTriples = Read("train.txt", true);
        var validTriples = Read("valid.txt", false);
        var testTriples = Read("test.txt", false);
        return new KnowledgeGraph(entities.Count, relations.Count, trainTriples, validTriples, testTriples, entities, relations);
    }

    /// <summary>Every triple of train, valid and test: the known-true set of filtered evaluation.</summary>
    public IEnumerable<Triple> All => Train.Concat(Valid).Concat(Test);

    /// <summary>Converts triples to an int64 tensor of shape [count, 3] (columns head, relation, tail).</summary>
    /// <param name="triples">The triples.</param>
    public static Tensor ToTensor(IReadOnlyList<Triple> triples)
    {
        ArgumentNullException.ThrowIfNull(triples);
        var data = new long[triples.Count * 3];
        for (var i = 0; i < triples.Count; i++)
        {
            data[3 * i] = triples[i].Head;
            data[3 * i + 1] = triples[i].Relation;
            data[3 * i + 2] = triples[i].Tail;
        }
        return tensor(data, new long[] { triples.Count, 3 });
    }

    private IReadOnlyList<Triple> Check(IReadOnlyList<Triple> triples, string name)
    {
        foreach (var t in triples)
        {
            if ((uint)t.Head >= (uint)EntityCount || (uint)t.Tail >= (uint)EntityCount || (uint)t.Relation >= (uint)RelationCount)
            {
                throw new ArgumentException(
                    $"Triple ({t.Head}, {t.Relation}, {t.Tail}) in '{name}' is out of range: entities must be in [0, {EntityCount - 1}], relations in [0, {RelationCount - 1}].",
                    name);
            }
        }
        return triples;
    }

    private static Vocabulary Numbered(string prefix, int count)
    {
        var vocabulary = new Vocabulary();
        for (var i = 0; i < count; i++)
        {
            vocabulary.GetOrAdd(prefix + i);
        }
        return vocabulary;
    }
}
