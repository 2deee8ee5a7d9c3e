using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Chooses CRD's negatives: for a batch of positive sample indices, K indices into the memory bank per sample. The draw for
/// a step must depend only on its arguments (the step number is the loss's checkpointed update count), so that a resumed run
/// draws what the uninterrupted one drew and a step computed twice (sequential updates) sees the same negatives.
/// </summary>
public interface ICrdNegativeSampler
{
    /// <summary>Draws the negatives of one step.</summary>
    /// <param name="positives">The batch's sample indices [B] (int64).</param>
    /// <param name="dataSize">N, the bank's rows: every index must be in [0, N).</param>
    /// <param name="count">K, the negatives per sample.</param>
    /// <param name="step">The number of bank updates so far (0 at the first step).</param>
    /// <returns>Indices [B, K] (int64) on any device.</returns>
    Tensor Sample(Tensor positives, long dataSize, int count, long step);
}

/// <summary>
/// Uniform negatives with replacement over the whole bank (the positive itself may be drawn), as RepDistiller's
/// <c>ContrastMemory</c> does with its uniform alias sampler when no contrast indices are given. The draw is a counter-based
/// SplitMix64 stream of (seed, step, position), so it needs no generator state beyond the step count.
/// </summary>
public sealed class UniformCrdNegativeSampler : ICrdNegativeSampler
{
    /// <summary>Creates the sampler.</summary>
    /// <param name="seed">The stream's seed.</param>
    public UniformCrdNegativeSampler(long seed = 0)
    {
        Seed = seed;
    }

    /// <summary>The stream's seed.</summary>
    public long Seed { get; }

    /// <inheritdoc />
    public Tensor Sample(Tensor positives, long dataSize, int count, long step)
    {
        ArgumentNullException.ThrowIfNull(positives);
        ArgumentOutOfRangeException.ThrowIfLessThan(dataSize, 1L);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var batch = positives.shape[0];
        var values = new long[checked(batch * count)];
        var state = SplitMix64.Mix(unchecked((ulong)Seed ^ SplitMix64.Mix((ulong)step + 0x632BE59BD9B4E019UL)));
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (long)SplitMix64.Below(SplitMix64.Next(ref state), (ulong)dataSize);
        }

        return tensor(values, new[] { batch, (long)count }, ScalarType.Int64).to(positives.device);
    }
}

/// <summary>SplitMix64 (Steele, Lea and Flood 2014): a small counter-based generator whose whole state is one integer.</summary>
internal static class SplitMix64
{
    /// <summary>Advances the state and returns the next 64 random bits.</summary>
    public static ulong Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>The SplitMix64 finaliser.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Maps 64 random bits to [0, bound) by the multiply-high method (bias below 2^-32 for bounds under 2^32).</summary>
    public static ulong Below(ulong bits, ulong bound) => Math.BigMul(bits, bound, out _);

    /// <summary>Maps 64 random bits to a double in [0, 1) (the top 53 bits).</summary>
    public static double Unit(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));
}
