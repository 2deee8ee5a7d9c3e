namespace KnowledgeDistillation.Data;

/// <summary>
/// A random-access collection of samples that need not fit in memory (files on disk, a database, generated data).
/// <see cref="DataPipeline"/> reads it by sample index, possibly from several worker threads at once.
/// </summary>
/// <remarks>
/// Implementations must be safe to call from several threads concurrently and must return a new
/// <see cref="DataSample"/> per call (the pipeline's transforms may change it in place). The same index must
/// always give the same sample, so that runs reproduce and resume exactly. <see cref="Dataset"/> builds one from a
/// function or an <see cref="IEnumerable{T}"/>; <see cref="ImageFolderDataset"/>, <see cref="IdxDataset"/> and
/// <see cref="CifarDataset"/> read files.
/// </remarks>
public interface IDataset
{
    /// <summary>The number of samples.</summary>
    long Count { get; }

    /// <summary>The number of classes when samples carry class labels (labels are 0..ClassCount-1); otherwise <c>null</c>.</summary>
    int? ClassCount { get; }

    /// <summary>Reads sample <paramref name="index"/>.</summary>
    /// <param name="index">The sample index, 0..<see cref="Count"/>-1.</param>
    /// <returns>A new sample the caller owns.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    /// <exception cref="InvalidDataException">The stored sample is malformed (the message names its file or source).</exception>
    DataSample Get(long index);
}
