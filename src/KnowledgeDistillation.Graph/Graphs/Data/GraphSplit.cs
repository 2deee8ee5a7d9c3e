using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Train / validation / test node indices of a node-classification graph.</summary>
public sealed class GraphSplit
{
    /// <summary>Creates a split from disjoint node index sets.</summary>
    public GraphSplit(long nodeCount, long[] train, long[] validation, long[] test)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(test);
        var seen = new HashSet<long>();
        foreach (var i in train.Concat(validation).Concat(test))
        {
            if (i < 0 || i >= nodeCount)
            {
                throw new ArgumentException($"Split node index {i} is outside [0, {nodeCount}).", nameof(train));
            }

            if (!seen.Add(i))
            {
                throw new ArgumentException($"Node {i} appears in more than one part of the split.", nameof(train));
            }
        }

        NodeCount = nodeCount;
        Train = train;
        Validation = validation;
        Test = test;
    }

    /// <summary>Number of nodes in the graph.</summary>
    public long NodeCount { get; }

    /// <summary>Labelled training nodes.</summary>
    public long[] Train { get; }

    /// <summary>Validation nodes (model selection, early stopping).</summary>
    public long[] Validation { get; }

    /// <summary>Test nodes.</summary>
    public long[] Test { get; }

    /// <summary>
    /// CPF's split (Shchur et al.): <paramref name="trainPerClass"/> random nodes of each class for training,
    /// <paramref name="validationPerClass"/> of each class for validation, every other node for test.
    /// </summary>
    public static GraphSplit Cpf(long[] labels, int seed, int trainPerClass = 20, int validationPerClass = 30)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (trainPerClass < 1 || validationPerClass < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(trainPerClass), "Need >= 1 training and >= 0 validation nodes per class.");
        }

        var rng = new Random(seed);
        var train = new List<long>();
        var validation = new List<long>();
        foreach (var group in labels.Select((label, i) => (label, i: (long)i)).GroupBy(x => x.label).OrderBy(g => g.Key))
        {
            var nodes = group.Select(x => x.i).ToArray();
            if (nodes.Length < trainPerClass + validationPerClass)
            {
                throw new ArgumentException(
                    $"Class {group.Key} has {nodes.Length} nodes, fewer than trainPerClass + validationPerClass = {trainPerClass + validationPerClass}.",
                    nameof(labels));
            }

            rng.Shuffle(nodes);
            train.AddRange(nodes.Take(trainPerClass));
            validation.AddRange(nodes.Skip(trainPerClass).Take(validationPerClass));
        }

        var used = train.Concat(validation).ToHashSet();
        var test = Enumerable.Range(0, labels.Length).Select(i => (long)i).Where(i => !used.Contains(i)).ToArray();
        return new GraphSplit(labels.LongLength, Sorted(train), Sorted(validation), test);
    }

    /// <summary>
    /// The Planetoid-style split: <paramref name="trainPerClass"/> random nodes per class for training, then
    /// <paramref name="validationCount"/> and <paramref name="testCount"/> random other nodes.
    /// </summary>
    public static GraphSplit Standard(long[] labels, int seed, int trainPerClass = 20, int validationCount = 500, int testCount = 1000)
    {
        var perClass = Cpf(labels, seed, trainPerClass, 0);
        var rest = perClass.Test.ToArray();
        if (rest.Length < validationCount + testCount)
        {
            throw new ArgumentException($"Only {rest.Length} unlabelled nodes; need {validationCount + testCount}.", nameof(labels));
        }

        new Random(seed + 1).Shuffle(rest);
        return new GraphSplit(labels.LongLength, perClass.Train, Sorted(rest.Take(validationCount)), Sorted(rest.Skip(validationCount).Take(testCount)));
    }

    /// <summary>A boolean mask of shape [nodes] that is true at <paramref name="nodes"/>.</summary>
    public Tensor Mask(IReadOnlyCollection<long> nodes)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        var mask = new bool[NodeCount];
        foreach (var i in nodes)
        {
            mask[i] = true;
        }

        return tensor(mask);
    }

    private static long[] Sorted(IEnumerable<long> nodes) => nodes.Order().ToArray();
}
