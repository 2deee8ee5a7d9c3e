namespace KnowledgeDistillation.Losses;

/// <summary>
/// IE-KD's fixed division of a student's C channels into an inheritance half I and an exploration half E
/// (official <c>divide_features</c>): disjoint, covering, C/2 each, chosen once for the whole run. Channels are taken in
/// the listed order.
/// </summary>
public sealed class ChannelSplit
{
    private ChannelSplit(int channels, long[] inheritance, long[] exploration)
    {
        Channels = channels;
        Inheritance = inheritance;
        Exploration = exploration;
    }

    /// <summary>Number of channels C (even).</summary>
    public int Channels { get; }

    /// <summary>The inheritance channel indices, C/2 of them.</summary>
    public IReadOnlyList<long> Inheritance { get; }

    /// <summary>The exploration channel indices, C/2 of them.</summary>
    public IReadOnlyList<long> Exploration { get; }

    /// <summary>The official default ("natural"): I = 0 … C/2 − 1, E = C/2 … C − 1.</summary>
    /// <param name="channels">C, even and &gt;= 2.</param>
    /// <exception cref="ArgumentOutOfRangeException">C is odd or below 2.</exception>
    public static ChannelSplit Natural(int channels)
    {
        var half = CheckChannels(channels);
        var all = Enumerable.Range(0, channels).Select(c => (long)c).ToArray();
        return new ChannelSplit(channels, all[..half], all[half..]);
    }

    /// <summary>
    /// The official "random" division: a permutation of 0 … C − 1 whose first half is I and second half E. The permutation
    /// is a pure function of <paramref name="seed"/> (a seeded <see cref="System.Random"/> shuffle, independent of
    /// TorchSharp's generator), so a resumed run rebuilds the same split.
    /// </summary>
    /// <param name="channels">C, even and &gt;= 2.</param>
    /// <param name="seed">The seed of the permutation.</param>
    /// <exception cref="ArgumentOutOfRangeException">C is odd or below 2.</exception>
    public static ChannelSplit Random(int channels, int seed)
    {
        var half = CheckChannels(channels);
        var permutation = Enumerable.Range(0, channels).Select(c => (long)c).ToArray();
        new Random(seed).Shuffle(permutation);
        return new ChannelSplit(channels, permutation[..half], permutation[half..]);
    }

    /// <summary>An explicit division (for example one read from an official checkpoint's <c>inh_index</c>/<c>exp_index</c>).</summary>
    /// <param name="inheritance">The inheritance indices.</param>
    /// <param name="exploration">The exploration indices.</param>
    /// <exception cref="ArgumentException">The halves differ in size, overlap, or do not cover 0 … C − 1 with C = their total.</exception>
    public static ChannelSplit FromIndices(IReadOnlyList<long> inheritance, IReadOnlyList<long> exploration)
    {
        ArgumentNullException.ThrowIfNull(inheritance);
        ArgumentNullException.ThrowIfNull(exploration);
        if (inheritance.Count == 0 || inheritance.Count != exploration.Count)
        {
            throw new ArgumentException(
                $"The inheritance and exploration halves must be non-empty and equally long; got {inheritance.Count} and {exploration.Count} indices.", nameof(exploration));
        }

        var channels = inheritance.Count + exploration.Count;
        var seen = new bool[channels];
        foreach (var (index, what) in inheritance.Select(i => (i, nameof(inheritance))).Concat(exploration.Select(e => (e, nameof(exploration)))))
        {
            if (index < 0 || index >= channels)
            {
                throw new ArgumentException($"Channel index {index} in '{what}' is outside [0, {channels - 1}] for {channels} channels.", what);
            }

            if (seen[index])
            {
                throw new ArgumentException($"Channel {index} appears twice; the halves must be disjoint and cover 0 … {channels - 1}.", what);
            }

            seen[index] = true;
        }

        return new ChannelSplit(channels, inheritance.ToArray(), exploration.ToArray());
    }

    private static int CheckChannels(int channels) =>
        channels >= 2 && channels % 2 == 0
            ? channels / 2
            : throw new ArgumentOutOfRangeException(nameof(channels), channels, "The student's channel count must be even and >= 2 to split it into two equal halves.");
}
