using System.Buffers.Binary;

namespace KnowledgeDistillation.Fuzz;

/// <summary>
/// Deterministic mutations of a seed: bit flips, byte overwrites with interesting values, little-endian integer field
/// edits (boundary values and small deltas, 2, 4 or 8 bytes), truncation, insertion, deletion, chunk duplication and
/// splicing with another seed. Input <c>i</c> of a target depends only on the seed corpus, the run's seed, the target's
/// name and <c>i</c>.
/// </summary>
internal static class Mutator
{
    private static readonly byte[] InterestingBytes = { 0x00, 0x01, 0x7F, 0x80, 0xFF, 0x09, 0x0A, 0x0D, 0x20, 0xC3, 0xE2 };

    private static readonly long[] InterestingIntegers =
    {
        0, 1, -1, 2, 7, 8, 16, 64, 127, 128, 255, 256, 4096, 65535, 65536, short.MaxValue, short.MinValue,
        int.MaxValue, int.MinValue, (long)int.MaxValue + 1, uint.MaxValue, long.MaxValue, long.MinValue, 1L << 40,
    };

    /// <summary>The mutations, by name (for reports).</summary>
    public static IReadOnlyList<string> Kinds { get; } = new[]
    {
        "bit-flip", "byte-interesting", "int-field", "int-delta", "truncate", "insert", "delete", "duplicate-chunk", "splice",
    };

    /// <summary>Builds input <paramref name="index"/> of a run.</summary>
    /// <param name="seeds">The seed corpus (at least one).</param>
    /// <param name="runSeed">The run's seed.</param>
    /// <param name="target">The target's name.</param>
    /// <param name="index">The input's index.</param>
    /// <param name="maxLength">The longest input to produce.</param>
    /// <returns>The input and the mutations applied, e.g. <c>seed 2: int-field@120, truncate@999</c>.</returns>
    public static (byte[] Input, string Recipe) Create(IReadOnlyList<byte[]> seeds, ulong runSeed, string target, int index, int maxLength)
    {
        var random = new SplitMix64(runSeed ^ SplitMix64.Hash(target) ^ ((ulong)index * 0x9E3779B97F4A7C15UL));
        var seedIndex = random.Below(seeds.Count);
        var data = new List<byte>(seeds[seedIndex]);
        var steps = 1 + random.Below(random.Below(4) == 0 ? 8 : 3);
        var recipe = new List<string>();
        for (var s = 0; s < steps; s++)
        {
            recipe.Add(Apply(data, seeds, random, maxLength));
        }

        return (data.ToArray(), $"seed {seedIndex}: {string.Join(", ", recipe)}");
    }

    private static string Apply(List<byte> data, IReadOnlyList<byte[]> seeds, SplitMix64 random, int maxLength)
    {
        var kind = Kinds[random.Below(Kinds.Count)];
        if (data.Count == 0 && kind is not ("insert" or "splice"))
        {
            kind = "insert";
        }

        var at = data.Count == 0 ? 0 : random.Below(data.Count);
        switch (kind)
        {
            case "bit-flip":
                data[at] ^= (byte)(1 << random.Below(8));
                break;
            case "byte-interesting":
                data[at] = InterestingBytes[random.Below(InterestingBytes.Length)];
                break;
            case "int-field":
            case "int-delta":
                {
                    var width = new[] { 2, 4, 8 }[random.Below(3)];
                    at = Math.Max(0, Math.Min(at, data.Count - width));
                    if (data.Count < width)
                    {
                        break;
                    }

                    Span<byte> field = stackalloc byte[8];
                    for (var i = 0; i < width; i++)
                    {
                        field[i] = data[at + i];
                    }

                    var current = width switch
                    {
                        2 => BinaryPrimitives.ReadInt16LittleEndian(field),
                        4 => BinaryPrimitives.ReadInt32LittleEndian(field),
                        _ => BinaryPrimitives.ReadInt64LittleEndian(field),
                    };
                    var value = kind == "int-field"
                        ? InterestingIntegers[random.Below(InterestingIntegers.Length)]
                        : current + (random.Below(33) - 16);
                    BinaryPrimitives.WriteInt64LittleEndian(field, value);
                    for (var i = 0; i < width; i++)
                    {
                        data[at + i] = field[i];
                    }

                    return $"{kind}{width * 8}@{at}={value}";
                }

            case "truncate":
                data.RemoveRange(at, data.Count - at);
                break;
            case "insert":
                {
                    var count = 1 + random.Below(random.Below(8) == 0 ? 4096 : 16);
                    var fill = random.Below(3);
                    var bytes = new byte[Math.Min(count, Math.Max(0, maxLength - data.Count))];
                    for (var i = 0; i < bytes.Length; i++)
                    {
                        bytes[i] = fill switch
                        {
                            0 => (byte)random.Next(),
                            1 => InterestingBytes[random.Below(InterestingBytes.Length)],
                            _ => bytes.Length > 0 && i > 0 ? bytes[i - 1] : (byte)random.Next(),
                        };
                    }

                    data.InsertRange(at, bytes);
                    return $"insert{bytes.Length}@{at}";
                }

            case "delete":
                {
                    var count = 1 + random.Below(Math.Max(1, Math.Min(256, data.Count - at)));
                    data.RemoveRange(at, Math.Min(count, data.Count - at));
                    return $"delete{count}@{at}";
                }

            case "duplicate-chunk":
                {
                    var count = 1 + random.Below(Math.Max(1, Math.Min(512, data.Count - at)));
                    var chunk = data.GetRange(at, Math.Min(count, data.Count - at));
                    var to = random.Below(data.Count + 1);
                    if (data.Count + chunk.Count <= maxLength)
                    {
                        data.InsertRange(to, chunk);
                    }

                    return $"duplicate{chunk.Count}@{at}->{to}";
                }

            case "splice":
                {
                    var other = seeds[random.Below(seeds.Count)];
                    var from = other.Length == 0 ? 0 : random.Below(other.Length);
                    data.RemoveRange(at, data.Count - at);
                    data.AddRange(other.AsSpan(from, Math.Min(other.Length - from, Math.Max(0, maxLength - data.Count))).ToArray());
                    return $"splice@{at}<-{from}";
                }
        }

        return $"{kind}@{at}";
    }
}
