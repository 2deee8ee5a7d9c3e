using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// A first-in-first-out queue of K unit embeddings [K, D] (MoCo's negative queue, SEED's and CompRess's teacher memory,
/// ReKD's anchors): <see cref="Enqueue"/> writes a batch's rows at the pointer, wrapping around, and advances it. Starts from
/// rows uniform in ±1/√(D/3) (CRD's bank initialisation, from a seed) scaled to unit norm. The entries and the pointer are
/// checkpointed loss state (<see cref="State"/>), so a resumed run continues with the same queue bit for bit. A loss that
/// owns a queue enqueues in its <see cref="IDistillationLoss.OnStepEnd"/>.
/// </summary>
public sealed class EmbeddingQueue : IDisposable
{
    private readonly Tensor _pointer;
    private Tensor _entries;

    /// <summary>Creates the queue.</summary>
    /// <param name="capacity">K &gt;= 1, the number of entries.</param>
    /// <param name="width">D &gt;= 1, the embedding width.</param>
    /// <param name="seed">Seed of the initial entries.</param>
    /// <param name="stream">A number that tells apart several queues created with one seed.</param>
    /// <exception cref="ArgumentOutOfRangeException">K or D is below 1.</exception>
    public EmbeddingQueue(long capacity, long width, long seed = 0, ulong stream = 7)
    {
        Capacity = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The queue needs at least one entry.");
        Width = width >= 1 ? width : throw new ArgumentOutOfRangeException(nameof(width), width, "The embedding width must be >= 1.");
        using (var scope = NewDisposeScope())
        {
            _entries = EmbeddingChecks.Unit(MemoryBankPair.InitialBank(capacity, width, seed, stream)).DetachFromDisposeScope();
        }

        _pointer = zeros(1, ScalarType.Int64).DetachFromDisposeScope();
    }

    /// <summary>K, the number of entries.</summary>
    public long Capacity { get; }

    /// <summary>D, the embedding width.</summary>
    public long Width { get; }

    /// <summary>The row the next enqueued embedding goes to.</summary>
    public long Pointer => _pointer.item<long>();

    /// <summary>The entries [K, D] (the queue's own tensor: read it, do not keep or change it).</summary>
    public Tensor Entries => _entries;

    /// <summary>The entries on the dtype and device of <paramref name="like"/> (moving the queue there once), detached.</summary>
    /// <param name="like">A tensor of the step (an embedding).</param>
    /// <returns>The entries [K, D].</returns>
    public Tensor EntriesLike(Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        if (_entries.dtype != like.dtype || _entries.device.type != like.device.type || _entries.device.index != like.device.index)
        {
            var moved = _entries.to(like.dtype, like.device).DetachFromDisposeScope();
            _entries.Dispose();
            _entries = moved;
        }

        return _entries.detach();
    }

    /// <summary>Writes <paramref name="rows"/> [n, D] at the pointer (wrapping around; of more than K rows only the last K stay) and advances it by n.</summary>
    /// <param name="rows">Embeddings (detached copies are stored).</param>
    /// <exception cref="ArgumentException">The rows are not [n, D] with n &gt;= 1.</exception>
    public void Enqueue(Tensor rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.dim() != 2 || rows.shape[0] < 1 || rows.shape[1] != Width)
        {
            throw new ArgumentException($"Queue entries must be [n, {Width}] with n >= 1; got {Guard.Shape(rows)}.", nameof(rows));
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var count = rows.shape[0];
        var start = Pointer;
        var kept = count > Capacity ? rows.narrow(0, count - Capacity, Capacity) : rows;
        var first = count > Capacity ? (start + count - Capacity) % Capacity : start;
        var positions = (arange(kept.shape[0], ScalarType.Int64) + first).remainder(Capacity).to(_entries.device);
        _entries.index_copy_(0, positions, kept.detach().to(_entries.dtype, _entries.device));
        _pointer.fill_((start + count) % Capacity);
    }

    /// <summary>The queue as checkpointed loss state named <paramref name="name"/> ("entries" [K, D], "pointer" [1]).</summary>
    /// <param name="name">The state's name, unique in the run (e.g. "moco.queue").</param>
    public ILossState State(string name) => new QueueState(this, Guard.Name(name, nameof(name)));

    /// <inheritdoc />
    public void Dispose()
    {
        _entries.Dispose();
        _pointer.Dispose();
    }

    private sealed class QueueState(EmbeddingQueue owner, string name) : ILossState
    {
        public string Name => name;

        public IReadOnlyDictionary<string, Tensor> Export() => new Dictionary<string, Tensor>
        {
            ["entries"] = owner._entries,
            ["pointer"] = owner._pointer,
        };

        public void Import(IReadOnlyDictionary<string, Tensor> state)
        {
            ArgumentNullException.ThrowIfNull(state);
            if (!state.TryGetValue("entries", out var entries) || !entries.is_floating_point() || entries.dim() != 2
                || entries.shape[0] != owner.Capacity || entries.shape[1] != owner.Width)
            {
                throw new InvalidDataException($"The saved state '{name}' has no 'entries' of shape [{owner.Capacity}, {owner.Width}] (floating point): it does not fit this queue.");
            }

            if (!state.TryGetValue("pointer", out var pointer) || pointer.numel() != 1)
            {
                throw new InvalidDataException($"The saved state '{name}' lacks its pointer [1].");
            }

            var value = pointer.to_type(ScalarType.Int64).reshape(1).item<long>();
            if (value < 0 || value >= owner.Capacity)
            {
                throw new InvalidDataException($"The saved state '{name}' has pointer {value}, outside [0, {owner.Capacity}).");
            }

            var copy = entries.to(owner._entries.device).clone().DetachFromDisposeScope();
            owner._entries.Dispose();
            owner._entries = copy;
            owner._pointer.fill_(value);
        }
    }
}
