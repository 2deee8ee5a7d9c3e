using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Tuning;

/// <summary>
/// Counter-based randomness of a search: trial <c>i</c>'s draws and its seed are pure functions of (search seed, <c>i</c>)
/// (SplitMix64 mixing, as <see cref="SampleRandom"/>), so they do not depend on how many trials ran before or in which
/// process.
/// </summary>
internal static class TrialRandom
{
    private const ulong SamplingDomain = 0x6A09E667F3BCC909UL;
    private const ulong TrialSeedDomain = 0xBB67AE8584CAA73BUL;

    /// <summary>The stream the parameters of trial <paramref name="index"/> are drawn from.</summary>
    public static SampleRandom For(int seed, int index) => new(State(seed, index, SamplingDomain));

    /// <summary>The seed handed to the objective of trial <paramref name="index"/>: in [0, int.MaxValue].</summary>
    public static int TrialSeed(int seed, int index) => (int)(SampleRandom.Mix(State(seed, index, TrialSeedDomain)) >> 33);

    /// <summary>A uniform integer in [<paramref name="low"/>, <paramref name="high"/>] (Lemire's unbiased multiply-shift on 64 bits).</summary>
    public static long Integer(SampleRandom random, long low, long high)
    {
        var bound = unchecked((ulong)(high - low) + 1);
        if (bound == 0)
        {
            return unchecked((long)random.NextUInt64()); // the whole 64-bit range
        }

        var threshold = (0UL - bound) % bound;
        while (true)
        {
            var product = Math.BigMul(random.NextUInt64(), bound, out var lowBits);
            if (lowBits >= threshold)
            {
                return low + (long)product;
            }
        }
    }

    private static ulong State(int seed, int index, ulong domain)
    {
        var state = SampleRandom.Mix(unchecked((ulong)seed) ^ domain);
        return SampleRandom.Mix(state ^ unchecked((ulong)index));
    }
}
