using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>Rows of a teacher's outputs (and of its inputs' fingerprints) stored per sample index.</summary>
internal interface ITeacherOutputStore : IDisposable
{
    /// <summary>The entries, or null before the first write defined them.</summary>
    IReadOnlyList<TeacherOutputEntry>? Layout { get; }

    /// <summary>Defines (or, for an existing file, checks) the entries from the first output seen.</summary>
    void Initialize(IReadOnlyList<TeacherOutputEntry> layout);

    bool IsFilled(long index);

    long FilledCount { get; }

    /// <summary>Stores rows [B, ...] per entry and fingerprints [B, 2] (float64) for the given samples.</summary>
    void Write(long[] indices, Tensor indexTensor, IReadOnlyList<Tensor> rows, Tensor fingerprints);

    /// <summary>Reads rows [B, ...] per entry (float32) onto <paramref name="device"/>.</summary>
    Tensor[] Read(long[] indices, Tensor indexTensor, Device device);

    /// <summary>Reads the stored input fingerprints [B, 2] (float64) onto <paramref name="device"/>.</summary>
    Tensor ReadFingerprints(long[] indices, Tensor indexTensor, Device device);
}
