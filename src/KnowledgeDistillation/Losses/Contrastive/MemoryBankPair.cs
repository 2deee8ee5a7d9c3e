using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The pair of per-sample memory banks that CRD (<see cref="CrdLoss"/>) and HKD (<see cref="HkdLoss"/>) keep: one row per
/// training sample for the student's embeddings (M_s) and one for the teacher's (M_t), each [N, D], started uniform in
/// ±1/√(D/3) (the references' initialisation) from a seeded stream. The term reads rows in <c>Compute</c> and remembers the
/// step's embeddings (<see cref="Remember"/>); after the optimiser step <see cref="Apply"/> moves the batch's rows to
/// <c>normalize(μ m + (1 − μ) v)</c> and counts the update (the step number the negative samplers receive). The banks and the
/// count are checkpointed under "student_bank", "teacher_bank" and "updates".
/// </summary>
internal sealed class MemoryBankPair : IDisposable
{
    private readonly Tensor _updates;
    private Tensor _student;
    private Tensor _teacher;
    private (Tensor Indices, Tensor Student, Tensor Teacher)? _pending;

    /// <summary>Creates the banks.</summary>
    /// <param name="rows">N &gt;= 1, the training set's size (validated by the owning term).</param>
    /// <param name="width">D, the embeddings' width.</param>
    /// <param name="seed">Seed of the initial values (the student bank is stream 1, the teacher bank stream 2).</param>
    /// <param name="momentum">μ in [0, 1), the old row's weight in an update (validated by the owning term).</param>
    /// <param name="method">The owning method's short name for messages ("CRD", "HKD").</param>
    public MemoryBankPair(long rows, long width, long seed, double momentum, string method)
    {
        Rows = rows;
        Momentum = momentum;
        Method = method;
        _student = InitialBank(rows, width, seed, 1).DetachFromDisposeScope();
        _teacher = InitialBank(rows, width, seed, 2).DetachFromDisposeScope();
        _updates = zeros(1, ScalarType.Int64).DetachFromDisposeScope();
    }

    /// <summary>N.</summary>
    public long Rows { get; }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <summary>The owning method's short name.</summary>
    public string Method { get; }

    /// <summary>M_s, the student's bank (no gradient).</summary>
    public Tensor Student => _student;

    /// <summary>M_t, the teacher's bank (no gradient).</summary>
    public Tensor Teacher => _teacher;

    /// <summary>Updates so far.</summary>
    public long Updates => _updates.item<long>();

    /// <summary>Whether a step's embeddings wait for <see cref="Apply"/>.</summary>
    public bool HasPending => _pending is not null;

    /// <summary>A bank [rows, width] uniform in ±1/√(width/3) (the references' initialisation) from a SplitMix64 stream of (seed, stream).</summary>
    /// <param name="rows">Rows.</param>
    /// <param name="width">Columns.</param>
    /// <param name="seed">The seed.</param>
    /// <param name="stream">The stream within the seed.</param>
    /// <returns>A float32 tensor.</returns>
    public static Tensor InitialBank(long rows, long width, long seed, ulong stream)
    {
        var bound = 1.0 / Math.Sqrt(width / 3.0);
        var values = new float[checked(rows * width)];
        var state = SplitMix64.Mix(unchecked((ulong)seed ^ SplitMix64.Mix(stream * 0xD1B54A32D192ED03UL)));
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = (float)((SplitMix64.Unit(SplitMix64.Next(ref state)) * 2 * bound) - bound);
        }

        return tensor(values, new[] { rows, width }, ScalarType.Float32);
    }

    /// <summary>Checks the batch's sample indices (int64 [B], each in [0, N)) before native code sees them, and moves them to <paramref name="device"/>.</summary>
    /// <param name="indices">The batch's indices.</param>
    /// <param name="batch">B.</param>
    /// <param name="device">The embeddings' device.</param>
    /// <returns>The indices on the device.</returns>
    /// <exception cref="ArgumentException">The indices are missing or not int64 [B].</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the banks.</exception>
    public Tensor CheckIndices(Tensor? indices, long batch, Device device)
    {
        if (indices is null)
        {
            throw new ArgumentException($"{Method} needs the batch's sample indices (Batch.Indices) to address its memory banks.", nameof(indices));
        }

        if (indices.dtype != ScalarType.Int64 || indices.dim() != 1 || indices.shape[0] != batch)
        {
            throw new ArgumentException($"The batch indices must be int64 [{batch}] (one per sample of the batch); got {indices.dtype} {Guard.Shape(indices)}.", nameof(indices));
        }

        var min = indices.min().item<long>();
        var max = indices.max().item<long>();
        if (min < 0 || max >= Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(indices), $"The batch indices range over [{min}, {max}], but the {Method} memory banks have {Rows} rows (dataSize): pass the training set's size.");
        }

        return On(indices, device);
    }

    /// <summary>Checks a sampler's negatives (int64 [B, K], each in [0, N)) and moves them to <paramref name="device"/>.</summary>
    /// <param name="negatives">The sampler's answer.</param>
    /// <param name="batch">B.</param>
    /// <param name="count">K.</param>
    /// <param name="device">The embeddings' device.</param>
    /// <returns>The negatives on the device.</returns>
    /// <exception cref="InvalidOperationException">The sampler broke its contract.</exception>
    public Tensor CheckNegatives(Tensor? negatives, long batch, int count, Device device)
    {
        if (negatives is null || negatives.dtype != ScalarType.Int64 || negatives.dim() != 2 || negatives.shape[0] != batch || negatives.shape[1] != count)
        {
            throw new InvalidOperationException(
                $"The {Method} negative sampler must return int64 [{batch}, {count}]; got {(negatives is null ? "null" : $"{negatives.dtype} {Guard.Shape(negatives)}")}.");
        }

        if (negatives.min().item<long>() < 0 || negatives.max().item<long>() >= Rows)
        {
            throw new InvalidOperationException($"The {Method} negative sampler returned indices outside [0, {Rows}).");
        }

        return On(negatives, device);
    }

    /// <summary>Moves both banks to the dtype and device of <paramref name="like"/> (once; devices compared by type and index).</summary>
    /// <param name="like">An embedding of the step.</param>
    public void MoveTo(Tensor like)
    {
        if (SameDevice(_student.device, like.device) && _student.dtype == like.dtype)
        {
            return;
        }

        var student = _student.to(like.dtype, like.device).DetachFromDisposeScope();
        var teacher = _teacher.to(like.dtype, like.device).DetachFromDisposeScope();
        _student.Dispose();
        _teacher.Dispose();
        _student = student;
        _teacher = teacher;
    }

    /// <summary>Keeps detached copies of the step's indices and embeddings for <see cref="Apply"/> (replacing any earlier ones).</summary>
    /// <param name="indices">The batch's indices [B].</param>
    /// <param name="student">The student's unit embeddings [B, D].</param>
    /// <param name="teacher">The teacher's unit embeddings [B, D].</param>
    public void Remember(Tensor indices, Tensor student, Tensor teacher)
    {
        Forget();
        _pending = (indices.detach().clone().DetachFromDisposeScope(), student.detach().clone().DetachFromDisposeScope(), teacher.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>Moves the remembered rows of both banks towards the remembered embeddings and counts the update.</summary>
    /// <returns>Whether there was anything to apply.</returns>
    public bool Apply()
    {
        if (_pending is not { } pending)
        {
            return false;
        }

        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            Update(_student, pending.Indices, pending.Student);
            Update(_teacher, pending.Indices, pending.Teacher);
            _updates.add_(1);
        }

        Forget();
        return true;
    }

    /// <summary>Drops the remembered step.</summary>
    public void Forget()
    {
        if (_pending is { } pending)
        {
            pending.Indices.Dispose();
            pending.Student.Dispose();
            pending.Teacher.Dispose();
            _pending = null;
        }
    }

    /// <summary>The checkpointed tensors: "student_bank", "teacher_bank", "updates" (live references, not copies).</summary>
    /// <returns>The entries, in that order.</returns>
    public IEnumerable<KeyValuePair<string, Tensor>> Export() => new KeyValuePair<string, Tensor>[]
    {
        new("student_bank", _student),
        new("teacher_bank", _teacher),
        new("updates", _updates),
    };

    /// <summary>Replaces the banks and the count with saved ones, after checking all of them; drops the remembered step.</summary>
    /// <param name="state">The saved tensors.</param>
    /// <exception cref="InvalidDataException">A bank is missing, not floating point or not [N, D], or the count is missing.</exception>
    public void Import(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var shape = _student.shape;
        Tensor Bank(string key) => state.TryGetValue(key, out var bank) && bank.shape.SequenceEqual(shape) && bank.is_floating_point()
            ? bank
            : throw new InvalidDataException($"The saved {Method} state has no '{key}' of shape {Guard.FormatShape(shape)} (floating point): it does not fit this loss (N = {Rows}).");
        var student = Bank("student_bank");
        var teacher = Bank("teacher_bank");
        if (!state.TryGetValue("updates", out var updates) || updates.numel() != 1)
        {
            throw new InvalidDataException($"The saved {Method} state lacks its update count [1].");
        }

        Forget();
        var device = _student.device;
        var newStudent = student.to(device).clone().DetachFromDisposeScope();
        var newTeacher = teacher.to(device).clone().DetachFromDisposeScope();
        _student.Dispose();
        _teacher.Dispose();
        _student = newStudent;
        _teacher = newTeacher;
        _updates.copy_(updates.to_type(ScalarType.Int64).reshape(1));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Forget();
        _student.Dispose();
        _teacher.Dispose();
        _updates.Dispose();
    }

    private static bool SameDevice(Device a, Device b) => a.type == b.type && a.index == b.index;

    private static Tensor On(Tensor x, Device device) => SameDevice(x.device, device) ? x : x.to(device);

    /// <summary><c>normalize(μ kept + (1 − μ) incoming)</c> row by row: the banks' update, and HKD's smoothing of its rows with the holistic embeddings.</summary>
    /// <param name="kept">The rows that keep weight μ [B, D].</param>
    /// <param name="incoming">The rows that get weight 1 − μ [B, D].</param>
    /// <param name="weight">μ.</param>
    /// <returns>Unit rows [B, D].</returns>
    internal static Tensor UnitMix(Tensor kept, Tensor incoming, double weight)
    {
        var mixed = (kept * weight) + (incoming * (1 - weight));
        return mixed / mixed.pow(2).sum(1, keepdim: true).sqrt();
    }

    private void Update(Tensor bank, Tensor indices, Tensor embeddings) =>
        bank.index_copy_(0, indices.to(bank.device), UnitMix(bank.index_select(0, indices), embeddings.to(bank.dtype, bank.device), Momentum));
}
