using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// CRD's negatives as the official code draws them by default (RepDistiller's <c>CIFAR100InstanceSample</c>, mode
/// <c>exact</c>): for a sample of class y, K bank rows drawn only from samples of the <em>other</em> classes, without
/// replacement when there are at least K of them (with replacement otherwise, as the reference does). With uniform negatives
/// (<see cref="UniformCrdNegativeSampler"/>) about 1/C of the negatives share the anchor's class (1 % on CIFAR-100, 10 % on a
/// 10-class set), and the NCE term pushes those same-class pairs apart. The draw is a counter-based SplitMix64 stream of
/// (seed, step, position): it needs no generator state beyond the step count, so a resumed run draws what the uninterrupted
/// one drew.
/// </summary>
public sealed class ClassAwareCrdNegativeSampler : ICrdNegativeSampler
{
    private readonly long[] _labels;
    private readonly long[] _byClass;
    private readonly Dictionary<long, (int Start, int Count)> _classes;

    /// <summary>Creates the sampler from the training set's labels.</summary>
    /// <param name="labels">The class of each bank row: <c>labels[i]</c> is the label of the sample whose index is i (N values).</param>
    /// <param name="seed">The stream's seed.</param>
    /// <exception cref="ArgumentException">The labels are empty, or they hold a single class (no sample would have a negative).</exception>
    public ClassAwareCrdNegativeSampler(IReadOnlyList<long> labels, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count == 0)
        {
            throw new ArgumentException("The class-aware CRD sampler needs the label of every bank row; got none.", nameof(labels));
        }

        _labels = labels.ToArray();
        Seed = seed;
        _byClass = Enumerable.Range(0, _labels.Length).Select(i => (long)i).OrderBy(i => _labels[i]).ThenBy(i => i).ToArray();
        _classes = new Dictionary<long, (int, int)>();
        for (var start = 0; start < _byClass.Length;)
        {
            var label = _labels[_byClass[start]];
            var end = start;
            while (end < _byClass.Length && _labels[_byClass[end]] == label)
            {
                end++;
            }

            _classes[label] = (start, end - start);
            start = end;
        }

        if (_classes.Count < 2)
        {
            throw new ArgumentException($"The class-aware CRD sampler draws negatives from the other classes, but all {_labels.Length} labels are {_labels[0]}.", nameof(labels));
        }
    }

    /// <summary>The stream's seed.</summary>
    public long Seed { get; }

    /// <summary>N, the number of labelled bank rows.</summary>
    public long DataSize => _labels.Length;

    /// <summary>The number of distinct classes.</summary>
    public int ClassCount => _classes.Count;

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="dataSize"/> is not the number of labels, or <paramref name="positives"/> is not an int64 vector.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A positive index is outside [0, N).</exception>
    public Tensor Sample(Tensor positives, long dataSize, int count, long step)
    {
        ArgumentNullException.ThrowIfNull(positives);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (dataSize != _labels.Length)
        {
            throw new ArgumentException($"The class-aware CRD sampler holds {_labels.Length} labels, but the bank has {dataSize} rows: pass the labels of exactly the training set the bank indexes.", nameof(dataSize));
        }

        if (positives.dtype != ScalarType.Int64 || positives.dim() != 1)
        {
            throw new ArgumentException($"The positives must be an int64 vector [B]; got {positives.dtype} with {positives.dim()} dimensions.", nameof(positives));
        }

        long[] anchors;
        using (var host = positives.cpu())
        {
            anchors = host.data<long>().ToArray();
        }

        var values = new long[checked(anchors.Length * count)];
        var state = SplitMix64.Mix(unchecked((ulong)Seed ^ SplitMix64.Mix((ulong)step + 0x3C6EF372FE94F82AUL)));
        int[]? marks = null;
        var generation = 0;
        for (var b = 0; b < anchors.Length; b++)
        {
            var anchor = anchors[b];
            if (anchor < 0 || anchor >= _labels.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(positives), anchor, $"Every positive index must be in [0, {_labels.Length}).");
            }

            var (start, size) = _classes[_labels[anchor]];
            var pool = _byClass.Length - size;
            var row = values.AsSpan(b * count, count);
            if (count > pool)
            {
                for (var k = 0; k < count; k++)
                {
                    row[k] = Other(start, size, (long)SplitMix64.Below(SplitMix64.Next(ref state), (ulong)pool));
                }

                continue;
            }

            // Floyd's algorithm: K distinct positions of the pool in O(K), marks stamped with a per-sample generation.
            marks ??= new int[_byClass.Length];
            generation++;
            var k2 = 0;
            for (var j = pool - count; j < pool; j++)
            {
                var t = (int)SplitMix64.Below(SplitMix64.Next(ref state), (ulong)(j + 1));
                var chosen = marks[t] == generation ? j : t;
                marks[chosen] = generation;
                row[k2++] = Other(start, size, chosen);
            }
        }

        return tensor(values, new[] { (long)anchors.Length, (long)count }, ScalarType.Int64).to(positives.device);
    }

    /// <summary>The bank row at position <paramref name="position"/> of the pool that skips the class block [start, start + size).</summary>
    private long Other(int start, int size, long position) => _byClass[position < start ? position : position + size];
}
