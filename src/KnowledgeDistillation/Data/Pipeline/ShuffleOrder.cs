namespace KnowledgeDistillation.Data;

/// <summary>The sample order of an epoch: SplitMix64-driven Fisher-Yates on the host, a pure function of (seed, epoch).</summary>
internal static class ShuffleOrder
{
    /// <summary>0..count-1, shuffled when <paramref name="shuffle"/> is set.</summary>
    public static long[] Create(long count, bool shuffle, ulong seed, int epoch)
    {
        var order = new long[count];
        for (long i = 0; i < count; i++)
        {
            order[i] = i;
        }

        if (shuffle)
        {
            var state = seed ^ (0x9E3779B97F4A7C15UL * (ulong)(epoch + 1));
            for (var i = count - 1; i > 0; i--)
            {
                var j = (long)(NextUInt64(ref state) % (ulong)(i + 1));
                (order[i], order[j]) = (order[j], order[i]);
            }
        }

        return order;
    }

    private static ulong NextUInt64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
