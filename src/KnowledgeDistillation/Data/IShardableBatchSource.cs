namespace KnowledgeDistillation.Data;

/// <summary>
/// A batch source that can split each of its batches across the ranks of a data-parallel run. The engine shards the
/// training source itself when <see cref="Engine.Distiller.ProcessGroup"/> has more than one rank.
/// </summary>
public interface IShardableBatchSource : IBatchSource
{
    /// <summary>
    /// The view of rank <paramref name="rank"/> of <paramref name="count"/>: the same epochs and batch count, where batch
    /// <c>b</c> holds the <paramref name="rank"/>-th of <paramref name="count"/> contiguous, near-equal parts of this
    /// source's batch <c>b</c> (same seed, same epoch order), so the ranks together see exactly this source's batches.
    /// </summary>
    /// <param name="rank">The part, 0..<paramref name="count"/>-1.</param>
    /// <param name="count">The number of parts (ranks), &gt;= 1.</param>
    /// <returns>The rank's source.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The rank is outside 0..count-1, or count is below 1.</exception>
    /// <exception cref="ArgumentException">A batch has fewer samples than <paramref name="count"/>, so some rank would get none.</exception>
    IBatchSource Shard(int rank, int count);
}
