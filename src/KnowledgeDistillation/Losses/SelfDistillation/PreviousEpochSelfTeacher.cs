using KnowledgeDistillation.Caching;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// DR-KD's "previous epoch" self-teacher: during every training step the student's logits (detached) are written
/// to a per-sample <see cref="ISampleStore"/> under the batch's sample indices, and the logits stored for the same
/// samples in the previous epoch are returned as the teacher. A sample not yet stored (the first epoch) falls back to
/// the dynamic teacher (its current logits, detached), so epoch 1 equals <see cref="DynamicSelfTeacher"/>; no extra
/// forward pass is ever run. Reading is free of side effects; the loss's step-end hook records the step's logits after
/// the optimiser step (<see cref="Record"/>), so a sequential update that computes the loss several times per step
/// stores them once. Evaluation steps neither read nor write the store. The store is checkpointed (<see cref="State"/>):
/// <see cref="Engine.Distiller.Resume"/> restores exactly the logits stored at the checkpoint, in memory or on disk.
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
        State = new ILossState[] { new SampleStoreState(LogitsField, store, new[] { LogitsField }) };
    }

    /// <summary>The store, as checkpointed state (named <see cref="LogitsField"/>).</summary>
    public IReadOnlyList<ILossState> State { get; }

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

        var indices = CheckedIndices(context, current);
        if (Store.Fields is null)
        {
            return current;
        }

        CheckFields(current);
        var stored = Store.Contains(indices).to(current.device).unsqueeze(1);
        var previous = Store.Read(indices, current.device)[0].to(current.dtype);
        return where(stored, previous, current);
    }

    /// <summary>Stores the step's (detached) logits under the batch's sample indices; evaluation steps store nothing.</summary>
    /// <param name="context">The step's context.</param>
    /// <param name="studentLogits">The student's logits the step's loss was computed from.</param>
    public void Record(DistillationContext context, Tensor studentLogits)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(studentLogits);
        if (!context.IsTraining)
        {
            return;
        }

        var current = studentLogits.detach();
        var indices = CheckedIndices(context, current);
        CheckFields(current);
        Store.Write(indices, new[] { current });
    }

    private void CheckFields(Tensor logits) => Store.Initialize(new[] { new SampleField(LogitsField, new[] { logits.shape[1] }) });

    private static Tensor CheckedIndices(DistillationContext context, Tensor logits)
    {
        var indices = context.Batch.Indices;
        if (indices.shape[0] != logits.shape[0])
        {
            throw new ArgumentException(
                $"The batch has {indices.shape[0]} sample indices but the student returned {logits.shape[0]} rows; a per-sample teacher needs one row per sample.",
                nameof(context));
        }

        return indices;
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
