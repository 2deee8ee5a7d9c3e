using KnowledgeDistillation.Caching;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// DR-KD's "previous epoch" self-teacher: during every training step the student's logits (detached) are written
/// to a per-sample <see cref="ISampleStore"/> under the batch's sample indices, and the logits stored for the same
/// samples in the previous epoch are returned as the teacher. A sample not yet stored (the first epoch) falls back to
/// the dynamic teacher (its current logits, detached), so epoch 1 equals <see cref="DynamicSelfTeacher"/>; no extra
/// forward pass is ever run. Evaluation steps neither read nor write the store. The store is not part of a
/// checkpoint: after <see cref="Engine.Distiller.Resume"/> an in-memory store starts empty (the dynamic fallback
/// applies again for one epoch), while a <see cref="DiskSampleStore"/> reopened at the same path keeps its logits.
/// </summary>
public sealed class PreviousEpochSelfTeacher : ISelfTeacherSource, IDisposable
{
    /// <summary>The store's field holding the logits.</summary>
    public const string LogitsField = "self-teacher-logits";

    private readonly bool _ownsStore;

    /// <summary>Keeps the logits in a new in-memory store (owned and disposed by this source).</summary>
    /// <param name="sampleCount">The number of training samples (indices 0..count-1).</param>
    /// <param name="device">Where the logits are kept (default CPU; use the training device to avoid copies).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampleCount"/> is not positive.</exception>
    public PreviousEpochSelfTeacher(long sampleCount, Device? device = null)
        : this(new MemorySampleStore(sampleCount, device), ownsStore: true)
    {
    }

    /// <summary>Keeps the logits in <paramref name="store"/> (e.g. a <see cref="DiskSampleStore"/>; not owned).</summary>
    /// <param name="store">A store whose fields are undefined or exactly one float32 field <see cref="LogitsField"/> [K].</param>
    public PreviousEpochSelfTeacher(ISampleStore store)
        : this(store, ownsStore: false)
    {
    }

    private PreviousEpochSelfTeacher(ISampleStore store, bool ownsStore)
    {
        Store = store ?? throw new ArgumentNullException(nameof(store));
        _ownsStore = ownsStore;
    }

    /// <summary>The per-sample store holding the student's latest logits.</summary>
    public ISampleStore Store { get; }

    /// <inheritdoc />
    public Tensor TeacherLogits(DistillationContext context, Tensor studentLogits)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(studentLogits);
        var current = studentLogits.detach();
        if (!context.IsTraining)
        {
            return current;
        }

        var indices = context.Batch.Indices;
        if (indices.shape[0] != current.shape[0])
        {
            throw new ArgumentException(
                $"The batch has {indices.shape[0]} sample indices but the student returned {current.shape[0]} rows; a per-sample teacher needs one row per sample.",
                nameof(context));
        }

        Store.Initialize(new[] { new SampleField(LogitsField, new[] { current.shape[1] }) });
        var stored = Store.Contains(indices).to(current.device).unsqueeze(1);
        var previous = Store.Read(indices, current.device)[0].to(current.dtype);
        var teacher = where(stored, previous, current);
        Store.Write(indices, new[] { current });
        return teacher;
    }

    /// <summary>Releases the store if this source created it.</summary>
    public void Dispose()
    {
        if (_ownsStore)
        {
            Store.Dispose();
        }
    }
}
