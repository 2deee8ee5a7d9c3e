using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Models;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Fuzz.Targets;

/// <summary>
/// The disk teacher cache: <see cref="CachedTeacher"/> opens the file (header, its checksum, the fields a teacher cache
/// writes) and <see cref="CachedTeacher.Forward"/> serves every sample (each cached row checked against its CRC-32C).
/// </summary>
internal sealed class TeacherCacheTarget : FuzzTarget
{
    private const int Samples = 24;
    private const int BatchSize = 8;

    /// <inheritdoc />
    public override string Name => "teacher-cache";

    /// <inheritdoc />
    public override string Api => "new CachedTeacher(teacher, n, Storage = Disk) + Forward over every sample";

    /// <inheritdoc />
    public override IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch)
    {
        var seeds = new List<(string, byte[])>();
        foreach (var filled in new[] { Samples, Samples / 2 })
        {
            var file = Path.Combine(scratch, $"cache-{filled}.kdcache");
            Serve(file, filled);
            seeds.Add(($"teacher-cache-{filled}-of-{Samples}.bin", File.ReadAllBytes(file)));
        }

        return seeds;
    }

    /// <inheritdoc />
    public override void Execute(byte[] input, string scratch)
    {
        var file = Path.Combine(scratch, "input.kdcache");
        File.WriteAllBytes(file, input);
        Serve(file, Samples);
    }

    /// <summary>Serves the first <paramref name="samples"/> samples through a disk cache at <paramref name="file"/>.</summary>
    private static void Serve(string file, int samples)
    {
        random.manual_seed(11);
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var teacher = Teacher.FromModule(net);
        using var cached = new CachedTeacher(teacher, Samples, new TeacherCacheOptions { Storage = TeacherCacheStorage.Disk, FilePath = file });
        using var generator = new Generator(12);
        using var inputs = randn(new long[] { Samples, 8 }, generator: generator);
        for (var start = 0; start < samples; start += BatchSize)
        {
            using var scope = NewDisposeScope();
            var indices = arange(start, Math.Min(start + BatchSize, samples), dtype: ScalarType.Int64);
            var batch = new Batch(inputs.index_select(0, indices), null, indices);
            _ = cached.Forward(batch);
        }
    }
}
