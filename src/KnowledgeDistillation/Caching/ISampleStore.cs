using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>
/// The engine's per-sample storage: named tensors kept per training-sample index (<see cref="Data.Batch.Indices"/>),
/// written by whoever produces them (a <see cref="CachedTeacher"/>, a loss that keeps its own previous predictions)
/// and read back for the same samples later. Every write sets all fields of the written samples.
/// Implementations: <see cref="MemorySampleStore"/> (device tensors) and <see cref="DiskSampleStore"/> (memory-mapped file).
/// </summary>
public interface ISampleStore : IDisposable
{
    /// <summary>The number of samples (valid indices are 0..SampleCount-1).</summary>
    long SampleCount { get; }

    /// <summary>The fields, or <c>null</c> before <see cref="Initialize"/> defined them.</summary>
    IReadOnlyList<SampleField>? Fields { get; }

    /// <summary>Samples written at least once.</summary>
    long FilledCount { get; }

    /// <summary>Defines the fields (first call), or checks that they equal the ones already defined.</summary>
    /// <param name="fields">The fields, in the order rows are written and read.</param>
    /// <exception cref="InvalidOperationException">The store already holds other fields.</exception>
    void Initialize(IReadOnlyList<SampleField> fields);

    /// <summary>Whether each sample has been written, as a bool tensor [B] on the device of <paramref name="indices"/>.</summary>
    /// <param name="indices">Sample indices, int64 [B].</param>
    /// <exception cref="ArgumentException">An index is outside 0..SampleCount-1.</exception>
    Tensor Contains(Tensor indices);

    /// <summary>Stores one row per sample for every field (rows are detached and converted to the field's type).</summary>
    /// <param name="indices">Sample indices, int64 [B], without duplicates.</param>
    /// <param name="rows">One tensor [B, ...row shape] per field, in <see cref="Fields"/> order.</param>
    /// <exception cref="ArgumentException">An index is out of range, or rows do not match the fields.</exception>
    /// <exception cref="InvalidOperationException">The fields are not defined yet.</exception>
    void Write(Tensor indices, IReadOnlyList<Tensor> rows);

    /// <summary>Reads one tensor [B, ...row shape] per field onto <paramref name="device"/> (unwritten samples read as zeros).</summary>
    /// <param name="indices">Sample indices, int64 [B].</param>
    /// <param name="device">Where the rows go.</param>
    /// <exception cref="ArgumentException">An index is out of range.</exception>
    /// <exception cref="InvalidOperationException">The fields are not defined yet.</exception>
    Tensor[] Read(Tensor indices, Device device);

    /// <summary>Marks samples as never written (their rows read as whatever they held; <see cref="Contains"/> turns false).</summary>
    /// <param name="indices">Sample indices, int64 [B].</param>
    /// <exception cref="ArgumentException">An index is outside 0..SampleCount-1.</exception>
    void Forget(Tensor indices);
}
