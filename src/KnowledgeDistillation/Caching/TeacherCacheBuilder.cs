using System.Security.Cryptography;
using System.Text;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>
/// Builds a teacher's disk output cache ahead of training, whole or in shards: each process (an MPI rank, or a machine
/// given its own index range) fills a disjoint, batch-aligned range of sample indices into a shard file of the same
/// format, and <see cref="Merge"/> joins the shards. The teacher runs in eval mode on batches of consecutive indices
/// starting at multiples of the batch size, so a merged cache is byte for byte the cache one process fills with the same
/// batch size and thread count (floating-point results can depend on the batch's composition and on the thread count).
/// </summary>
public static class TeacherCacheBuilder
{
    /// <summary>The index range <c>[Start, End)</c> of part <paramref name="rank"/> of <paramref name="count"/>: whole batches, near-equal counts.</summary>
    /// <param name="sampleCount">The number of samples, &gt;= 1.</param>
    /// <param name="batchSize">The batch size, &gt;= 1.</param>
    /// <param name="rank">The part, 0..<paramref name="count"/>-1.</param>
    /// <param name="count">The number of parts, &gt;= 1.</param>
    /// <returns>The range (empty when there are fewer batches than parts).</returns>
    public static (long Start, long End) ShardRange(long sampleCount, int batchSize, int rank, int count)
    {
        Guard.Positive(sampleCount, nameof(sampleCount));
        Guard.Positive(batchSize, nameof(batchSize));
        Guard.Positive(count, nameof(count));
        if (rank < 0 || rank >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"The rank must be in 0..{count - 1}.");
        }

        var batches = (sampleCount + batchSize - 1) / batchSize;
        var first = batches * rank / count;
        var last = batches * (rank + 1) / count;
        return (Math.Min(sampleCount, first * batchSize), Math.Min(sampleCount, last * batchSize));
    }

    /// <summary>
    /// Runs <paramref name="cache"/> (and so its teacher, in eval mode, under no_grad) on samples
    /// <paramref name="start"/>..<paramref name="end"/>-1 of <paramref name="data"/> in batches of
    /// <paramref name="batchSize"/> starting at <paramref name="start"/>, storing their outputs. Samples already cached are
    /// served (and their inputs checked) instead.
    /// </summary>
    /// <param name="cache">The cache (a disk cache for shards).</param>
    /// <param name="data">The training data whose indices the cache uses.</param>
    /// <param name="start">The first index.</param>
    /// <param name="end">One past the last index (&lt;= the data's count).</param>
    /// <param name="batchSize">Samples per batch, &gt;= 1.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <returns>The number of samples the cache holds afterwards.</returns>
    public static long Fill(CachedTeacher cache, TensorDataset data, long start, long end, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(data);
        Guard.Positive(batchSize, nameof(batchSize));
        if (start < 0 || start > end || end > data.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"The range [{start}, {end}) must lie within the data's 0..{data.Count}.");
        }

        var device = cache.Module.parameters().FirstOrDefault()?.device ?? CPU;
        var wasTraining = cache.Module.training;
        cache.Module.eval();
        try
        {
            using var noGrad = no_grad();
            for (var first = start; first < end; first += batchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var length = Math.Min(batchSize, end - first);
                var indices = arange(first, first + length, ScalarType.Int64);
                var inputs = data.Inputs.narrow(0, first, length).to(device);
                var targets = data.Targets?.narrow(0, first, length).to(device);
                cache.Forward(new Batch(inputs, targets, indices.to(device)));
            }
        }
        finally
        {
            cache.Module.train(wasTraining);
        }

        return cache.CachedSamples;
    }

    /// <summary>
    /// Merges shard files built with <see cref="Fill"/> over disjoint ranges by the same teacher into one cache file at
    /// <paramref name="outputPath"/> (see <see cref="DiskSampleStore.Merge"/>); a shard made by another teacher (its weights'
    /// SHA-256 differs), for another sample count or with other outputs is refused.
    /// </summary>
    /// <param name="outputPath">The merged cache; must not exist.</param>
    /// <param name="shardPaths">The shards.</param>
    /// <param name="teacherFingerprint">The teacher's <see cref="CachedTeacher.TeacherFingerprint"/>.</param>
    /// <param name="sampleCount">The training data's sample count.</param>
    /// <param name="cancellationToken">Checked between chunks.</param>
    /// <returns>The number of samples in the merged cache.</returns>
    public static long Merge(string outputPath, IReadOnlyList<string> shardPaths, string teacherFingerprint, long sampleCount, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(teacherFingerprint);
        return DiskSampleStore.Merge(
            outputPath, shardPaths, sampleCount, teacherFingerprint, "it was made by a teacher with different weights, and a cache never serves another teacher's outputs", cancellationToken);
    }

    /// <summary>
    /// Builds the disk cache at <paramref name="path"/> with every rank of <paramref name="group"/>: the ranks first check
    /// that they hold the same teacher (weights' SHA-256), sample count and batch size; rank <c>r</c> fills
    /// <see cref="ShardRange"/> into <c>path.shard-r-of-N</c>; rank 0 merges the shards, checks that every sample is
    /// cached, and deletes them. Collective: every rank must call it. Does nothing but wait when the cache exists.
    /// </summary>
    /// <param name="group">The ranks (a group of one builds alone).</param>
    /// <param name="teacher">The frozen teacher.</param>
    /// <param name="data">The training data (the same on every rank).</param>
    /// <param name="batchSize">Samples per teacher batch.</param>
    /// <param name="path">The cache file, on a file system every rank sees.</param>
    /// <param name="features">Features to keep besides the logits (as the losses declare them), or <c>null</c> for every feature the teacher returns.</param>
    /// <param name="cancellationToken">Checked between batches.</param>
    /// <exception cref="InvalidOperationException">The ranks disagree on the teacher, the data size or the batch size.</exception>
    public static void BuildSharded(IProcessGroup group, ITeacher teacher, TensorDataset data, int batchSize, string path, IReadOnlyCollection<string>? features = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Guard.Positive(batchSize, nameof(batchSize));
        var fingerprint = Internal.ModuleFingerprint.Compute(teacher.Module);
        var setup = $"teacher {fingerprint}, {data.Count} samples, batch size {batchSize}, features [{string.Join(",", features?.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>())}], path {Path.GetFullPath(path)}";
        var all = group.AllGather(SHA256.HashData(Encoding.UTF8.GetBytes(setup)));
        var differ = Enumerable.Range(1, all.Length - 1).Where(r => !all[r].AsSpan().SequenceEqual(all[0])).ToArray();
        if (differ.Length > 0)
        {
            throw new InvalidOperationException(
                $"The ranks building the teacher cache '{path}' disagree: rank(s) {string.Join(", ", differ)} differ from rank 0 in the teacher's weights, " +
                $"the sample count, the batch size, the features or the path. This is rank {group.Rank}: {setup}.");
        }

        var exists = File.Exists(path);
        group.Barrier();
        if (exists)
        {
            return;
        }

        var shard = $"{path}.shard-{group.Rank}-of-{group.Size}";
        File.Delete(shard);
        var (start, end) = ShardRange(data.Count, batchSize, group.Rank, group.Size);
        using (var cache = new CachedTeacher(teacher, data.Count, new TeacherCacheOptions { Storage = TeacherCacheStorage.Disk, FilePath = shard }))
        {
            if (features is not null)
            {
                cache.CaptureFeatures(features);
            }

            Fill(cache, data, start, end, batchSize, cancellationToken);
        }

        group.Barrier();
        Exception? failure = null;
        if (group.Rank == 0)
        {
            try
            {
                // A rank whose range is empty (fewer batches than ranks) writes no shard.
                var shards = Enumerable.Range(0, group.Size)
                    .Where(r => ShardRange(data.Count, batchSize, r, group.Size) is var range && range.End > range.Start)
                    .Select(r => $"{path}.shard-{r}-of-{group.Size}")
                    .ToArray();
                var merged = Merge(path, shards, fingerprint, data.Count, cancellationToken);
                if (merged != data.Count)
                {
                    File.Delete(path);
                    throw new InvalidOperationException($"The merged teacher cache '{path}' holds {merged} of {data.Count} samples; a shard is incomplete.");
                }

                foreach (var file in shards)
                {
                    File.Delete(file);
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        }

        var status = new[] { failure is null ? 0.0 : 1.0 };
        group.AllReduceSum(status);
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        if (status[0] != 0)
        {
            throw new InvalidOperationException($"Rank 0 failed to merge the teacher cache '{path}'; see its error.");
        }
    }
}
