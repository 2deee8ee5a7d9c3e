namespace KnowledgeDistillation.Fuzz;

/// <summary>A small deterministic generator (SplitMix64), the same on every runtime, so a (seed, target, index) always gives the same input.</summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    /// <summary>The next 64 random bits.</summary>
    public ulong Next()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A number in 0..<paramref name="bound"/>-1 (<paramref name="bound"/> &gt; 0).</summary>
    public int Below(int bound) => (int)(Next() % (ulong)bound);

    /// <summary>A stable 64-bit hash of a string (FNV-1a), to derive a per-target stream.</summary>
    public static ulong Hash(string text)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 0x100000001B3UL;
        }

        return hash;
    }
}
