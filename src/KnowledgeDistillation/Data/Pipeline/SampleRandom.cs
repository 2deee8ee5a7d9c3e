namespace KnowledgeDistillation.Data;

/// <summary>
/// The random numbers of one sample's transforms: a SplitMix64 stream that is a pure function of
/// (seed, epoch, sample index). The transforms of a sample draw from it in order, so a sample is augmented the
/// same way whichever thread builds it, in whatever order, and whether the epoch ran through or was resumed.
/// </summary>
public sealed class SampleRandom
{
    private ulong _state;

    /// <summary>Creates a stream from a raw 64-bit state.</summary>
    /// <param name="state">The initial state.</param>
    public SampleRandom(ulong state) => _state = state;

    /// <summary>The stream of sample <paramref name="index"/> in <paramref name="epoch"/> of a run seeded with <paramref name="seed"/>.</summary>
    /// <param name="seed">The pipeline's seed.</param>
    /// <param name="epoch">The data epoch, from 0.</param>
    /// <param name="index">The sample's index in the dataset.</param>
    public static SampleRandom For(int seed, int epoch, long index)
    {
        // Mix each coordinate through a SplitMix64 step so neighbouring (epoch, index) pairs get unrelated streams.
        var state = Mix(unchecked((ulong)seed) ^ 0x5851F42D4C957F2DUL);
        state = Mix(state ^ unchecked((ulong)epoch));
        state = Mix(state ^ unchecked((ulong)index));
        return new SampleRandom(state);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>A uniform integer in 0..<paramref name="maxExclusive"/>-1 (Lemire's unbiased multiply-shift).</summary>
    /// <param name="maxExclusive">The exclusive upper bound, &gt;= 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxExclusive"/> is below 1.</exception>
    public int NextInt(int maxExclusive)
    {
        if (maxExclusive < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxExclusive), maxExclusive, "The bound must be >= 1.");
        }

        var bound = (ulong)maxExclusive;
        var threshold = (0UL - bound) % bound;
        while (true)
        {
            var product = Math.BigMul(NextUInt64(), bound, out var low);
            if (low >= threshold)
            {
                return (int)product;
            }
        }
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>The SplitMix64 output function.</summary>
    internal static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
