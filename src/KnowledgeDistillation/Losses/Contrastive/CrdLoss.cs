using KnowledgeDistillation.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Contrastive representation distillation (Tian, Krishnan and Isola, "Contrastive Representation Distillation", ICLR 2020,
/// arXiv 1910.10699; RepDistiller <c>crd/criterion.py</c> and <c>crd/memory.py</c>, mdistiller <c>distillers/CRD.py</c>).
/// The student's and the teacher's features (the references: the pooled penultimate features) pass through their
/// <see cref="CrdEmbedding"/> heads to unit vectors <c>v_s</c>, <c>v_t</c>. Two memory banks [N, D] hold one embedding per
/// training sample (N = the training set's size, rows addressed by <see cref="Data.Batch.Indices"/>). For each sample, the
/// bank rows of the sample itself (the positive) and of K negatives give scores <c>exp(m · v / τ) / Z</c>: the teacher's
/// bank against <c>v_s</c> (student anchor) and the student's bank against <c>v_t</c> (teacher anchor). Z is fixed on the
/// first step to the mean unnormalised score times N. Each side's NCE loss (the paper's eq. 18, with noise probability
/// <c>P_n = 1/N</c> and <c>c = K P_n</c>) is
/// <c>−(1/B) Σ_b [log(x_b0 / (x_b0 + c + 1e-7)) + Σ_k log(c / (x_bk + c + 1e-7))]</c>; CRD is their sum.
/// After the optimiser step (<see cref="OnStepEnd"/>, not in <see cref="Compute"/>), the batch's bank rows move to
/// <c>normalize(μ m + (1 − μ) v)</c> with the step's embeddings. Banks, both Z and the update count (which drives the
/// negative sampler) are checkpointed loss state, so a resumed run is bit-exact. The heads are this term's trainable modules.
/// Reports "NAME", "NAME.student" and "NAME.teacher" (the two anchors' losses).
/// </summary>
public sealed class CrdLoss : DistillationLoss
{
    private const double Epsilon = 1e-7;
    private readonly nn.Module[] _modules;
    private readonly Tensor _normalizers;
    private readonly MemoryBankPair _banks;
    private (double Student, double Teacher)? _pendingNormalizers;

    /// <summary>Creates the term with banks initialised as the references do: uniform in ±1/√(D/3), from <paramref name="seed"/>.</summary>
    /// <param name="feature">The student feature and the teacher feature that are embedded (e.g. the pooled penultimate layer).</param>
    /// <param name="studentEmbedding">The student's head (its D_in is the student feature's flattened width).</param>
    /// <param name="teacherEmbedding">The teacher's head (same D_out as the student's).</param>
    /// <param name="dataSize">N &gt;= 1, the training set's size (bank rows; every batch index must be below it).</param>
    /// <param name="negatives">K &gt;= 1, negatives per sample (the references: 16384).</param>
    /// <param name="temperature">τ &gt; 0 (the references: 0.07).</param>
    /// <param name="momentum">μ in [0, 1), the old row's weight in the bank update (the references: 0.5).</param>
    /// <param name="seed">Seed of the banks' initial values and of the default sampler.</param>
    /// <param name="sampler">The negatives' sampler; <c>null</c>: <see cref="UniformCrdNegativeSampler"/> with <paramref name="seed"/>.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "crd").</param>
    /// <exception cref="ArgumentOutOfRangeException">N or K is below 1, τ &lt;= 0, or μ is outside [0, 1).</exception>
    /// <exception cref="ArgumentException">The heads' output widths differ, or a name is empty.</exception>
    public CrdLoss(
        FeaturePair feature,
        CrdEmbedding studentEmbedding,
        CrdEmbedding teacherEmbedding,
        long dataSize,
        int negatives = 16384,
        double temperature = 0.07,
        double momentum = 0.5,
        long seed = 0,
        ICrdNegativeSampler? sampler = null,
        string student = "student",
        string teacher = "teacher",
        string name = "crd")
        : base(name)
    {
        Feature = feature ?? throw new ArgumentNullException(nameof(feature));
        StudentEmbedding = studentEmbedding ?? throw new ArgumentNullException(nameof(studentEmbedding));
        TeacherEmbedding = teacherEmbedding ?? throw new ArgumentNullException(nameof(teacherEmbedding));
        if (studentEmbedding.OutputDimension != teacherEmbedding.OutputDimension)
        {
            throw new ArgumentException(
                $"The CRD heads must embed into one space: the student's outputs {studentEmbedding.OutputDimension} values, the teacher's {teacherEmbedding.OutputDimension}.",
                nameof(teacherEmbedding));
        }

        DataSize = dataSize >= 1 ? dataSize : throw new ArgumentOutOfRangeException(nameof(dataSize), dataSize, "The memory bank needs the training set's size N >= 1 (one row per sample).");
        Negatives = negatives >= 1 ? negatives : throw new ArgumentOutOfRangeException(nameof(negatives), negatives, "CRD needs K >= 1 negatives per sample.");
        Temperature = Guard.Positive(temperature, nameof(temperature));
        Momentum = momentum is >= 0 and < 1 ? momentum : throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The bank momentum must be in [0, 1).");
        Seed = seed;
        Sampler = sampler ?? new UniformCrdNegativeSampler(seed);
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        _modules = new nn.Module[] { studentEmbedding, teacherEmbedding };
        var width = studentEmbedding.OutputDimension;
        _banks = new MemoryBankPair(dataSize, width, seed, momentum, "CRD");
        _normalizers = full(2, -1.0, ScalarType.Float64).DetachFromDisposeScope();
    }

    /// <summary>The embedded student and teacher features.</summary>
    public FeaturePair Feature { get; }

    /// <summary>The student's embedding head.</summary>
    public CrdEmbedding StudentEmbedding { get; }

    /// <summary>The teacher's embedding head.</summary>
    public CrdEmbedding TeacherEmbedding { get; }

    /// <summary>N, the bank rows (the training set's size).</summary>
    public long DataSize { get; }

    /// <summary>K, negatives per sample.</summary>
    public int Negatives { get; }

    /// <summary>τ, the temperature of the scores.</summary>
    public double Temperature { get; }

    /// <summary>μ, the old row's weight in the bank update.</summary>
    public double Momentum { get; }

    /// <summary>The seed of the banks' initial values (and of the default sampler).</summary>
    public long Seed { get; }

    /// <summary>The negatives' sampler.</summary>
    public ICrdNegativeSampler Sampler { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>Bank updates so far (the step number the sampler receives).</summary>
    public long Updates => _banks.Updates;

    /// <summary>(Z_s, Z_t), the student-anchor and teacher-anchor normalisers; −1 until the first step fixed them.</summary>
    public (double Student, double Teacher) Normalizers
    {
        get
        {
            var z = _normalizers.data<double>();
            return (z[0], z[1]);
        }
    }

    /// <inheritdoc />
    public override LossRequirements Requirements =>
        LossRequirements.None.Feature(Student, Feature.Student).Feature(Teacher, Feature.Teacher).Indices();

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => new ILossState[] { new BankState(this) };

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentWhat = $"feature '{Feature.Student}' of '{Student}'";
        var teacherWhat = $"feature '{Feature.Teacher}' of '{Teacher}'";
        var fs = context.Output(Student).Feature(Feature.Student, Student);
        var ft = context.Output(Teacher).Feature(Feature.Teacher, Teacher).detach();
        FeatureDistillationLoss.CheckPair(fs, studentWhat, ft, teacherWhat);
        StudentEmbedding.CheckInput(fs, studentWhat);
        TeacherEmbedding.CheckInput(ft, teacherWhat);
        var batch = fs.shape[0];
        var indices = _banks.CheckIndices(context.Batch.Indices, batch, fs.device);

        var vs = StudentEmbedding.call(fs);
        var vt = TeacherEmbedding.call(ft);
        _banks.MoveTo(vs);
        var negatives = _banks.CheckNegatives(Sampler.Sample(indices, DataSize, Negatives, Updates), batch, Negatives, fs.device);
        var rows = cat(new[] { indices.unsqueeze(1), negatives }, 1).reshape(-1);
        var studentScores = Scores(_banks.Teacher, rows, vs, batch);
        var teacherScores = Scores(_banks.Student, rows, vt, batch);

        var (zs, zt) = Normalizers;
        var pendingZ = _pendingNormalizers;
        if (zs < 0)
        {
            zs = pendingZ?.Student ?? studentScores.detach().mean().to_type(ScalarType.Float64).item<double>() * DataSize;
        }

        if (zt < 0)
        {
            zt = pendingZ?.Teacher ?? teacherScores.detach().mean().to_type(ScalarType.Float64).item<double>() * DataSize;
        }

        var studentLoss = Nce(studentScores / zs);
        var teacherLoss = Nce(teacherScores / zt);
        _banks.Remember(indices, vs, vt);
        _pendingNormalizers = (zs, zt);
        var total = studentLoss + teacherLoss;
        return new LossResult(total, new Dictionary<string, Tensor>
        {
            [Name] = total,
            [$"{Name}.student"] = studentLoss.detach(),
            [$"{Name}.teacher"] = teacherLoss.detach(),
        });
    }

    /// <summary>
    /// Moves the batch's bank rows towards the embeddings of the step's last <see cref="Compute"/>
    /// (<c>normalize(μ m + (1 − μ) v)</c>), fixes Z on the first step and counts the update.
    /// </summary>
    /// <param name="context">The step's context.</param>
    public override void OnStepEnd(DistillationContext context)
    {
        if (_pendingNormalizers is not { } z)
        {
            return;
        }

        _banks.Apply();
        using (var scope = NewDisposeScope())
        {
            _normalizers.copy_(tensor(new[] { z.Student, z.Teacher }, ScalarType.Float64));
        }

        _pendingNormalizers = null;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _banks.Dispose();
            _normalizers.Dispose();
        }
    }

    private Tensor Scores(Tensor bank, Tensor rows, Tensor anchor, long batch)
    {
        var entries = bank.index_select(0, rows).reshape(batch, Negatives + 1, -1);
        return (bmm(entries, anchor.unsqueeze(2)).squeeze(2) / Temperature).exp();
    }

    private Tensor Nce(Tensor x)
    {
        var batch = x.shape[0];
        var noise = Negatives / (double)DataSize;
        var positive = (x.select(1, 0) / (x.select(1, 0) + (noise + Epsilon))).log();
        var negative = (noise / (x.narrow(1, 1, Negatives) + (noise + Epsilon))).log();
        return -(positive.sum() + negative.sum()) / batch;
    }

    private sealed class BankState(CrdLoss owner) : ILossState
    {
        public string Name => $"{owner.Name}.memory";

        // The keys and their order are those of the checkpoints written before MemoryBankPair existed.
        public IReadOnlyDictionary<string, Tensor> Export()
        {
            var banks = owner._banks.Export().ToDictionary(p => p.Key, p => p.Value);
            return new Dictionary<string, Tensor>
            {
                ["student_bank"] = banks["student_bank"],
                ["teacher_bank"] = banks["teacher_bank"],
                ["normalizers"] = owner._normalizers,
                ["updates"] = banks["updates"],
            };
        }

        public void Import(IReadOnlyDictionary<string, Tensor> state)
        {
            ArgumentNullException.ThrowIfNull(state);
            if (!state.TryGetValue("normalizers", out var z) || z.numel() != 2)
            {
                throw new InvalidDataException("The saved CRD state lacks its normalisers [2].");
            }

            owner._banks.Import(state);
            owner._pendingNormalizers = null;
            owner._normalizers.copy_(z.to_type(ScalarType.Float64).reshape(2));
        }
    }
}

public static partial class Loss
{
    /// <summary>
    /// Tian, Krishnan and Isola (2020), "Contrastive Representation Distillation" (ICLR, arXiv 1910.10699): NCE between
    /// embedded student and teacher features against a per-sample memory bank with K negatives (see <see cref="CrdLoss"/>).
    /// Reports "NAME". The references' objective is <c>CE + 0.8 · crd</c> (<see cref="Recipes.Crd"/>).
    /// </summary>
    /// <param name="feature">The embedded student and teacher features.</param>
    /// <param name="studentEmbedding">The student's head.</param>
    /// <param name="teacherEmbedding">The teacher's head.</param>
    /// <param name="dataSize">N, the training set's size.</param>
    /// <param name="negatives">K, negatives per sample.</param>
    /// <param name="temperature">τ &gt; 0.</param>
    /// <param name="momentum">μ in [0, 1).</param>
    /// <param name="seed">Seed of the banks and the default sampler.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    /// <param name="sampler">The negatives' sampler; <c>null</c>: uniform over the bank (<see cref="UniformCrdNegativeSampler"/>).
    /// The official code's default draws from the other classes only: pass a <see cref="ClassAwareCrdNegativeSampler"/> built
    /// from the training labels.</param>
    public static CrdLoss Crd(FeaturePair feature, CrdEmbedding studentEmbedding, CrdEmbedding teacherEmbedding, long dataSize, int negatives = 16384, double temperature = 0.07, double momentum = 0.5, long seed = 0, string student = "student", string teacher = "teacher", string name = "crd", ICrdNegativeSampler? sampler = null) =>
        new(feature, studentEmbedding, teacherEmbedding, dataSize, negatives, temperature, momentum, seed, sampler, student, teacher, name);
}

public static partial class Recipes
{
    /// <summary>
    /// Tian, Krishnan and Isola (2020), "Contrastive Representation Distillation" (ICLR, arXiv 1910.10699), the references'
    /// CIFAR-100 objective in one stage: <c>CE + 0.8 · CRD</c> (RepDistiller <c>-r 1 -a 0 -b 0.8</c>, mdistiller
    /// <c>CE_WEIGHT 1, FEAT_WEIGHT 0.8</c>).
    /// </summary>
    /// <param name="feature">The embedded student and teacher features.</param>
    /// <param name="studentEmbedding">The student's head.</param>
    /// <param name="teacherEmbedding">The teacher's head.</param>
    /// <param name="dataSize">N, the training set's size.</param>
    /// <param name="negatives">K, negatives per sample.</param>
    /// <param name="weight">The CRD term's weight (the references: 0.8).</param>
    /// <param name="seed">Seed of the banks and the default sampler.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="sampler">The negatives' sampler; <c>null</c>: uniform over the bank. The references draw from the other
    /// classes (<see cref="ClassAwareCrdNegativeSampler"/>), which matters most with few classes (docs/benchmarks.md).</param>
    public static DistillationRecipe Crd(FeaturePair feature, CrdEmbedding studentEmbedding, CrdEmbedding teacherEmbedding, long dataSize, int negatives = 16384, double weight = 0.8, long seed = 0, string student = "student", string teacher = "teacher", ICrdNegativeSampler? sampler = null) =>
        Of("crd", new CrossEntropyLoss(student) + (Guard.NonNegative(weight, nameof(weight)) * Loss.Crd(feature, studentEmbedding, teacherEmbedding, dataSize, negatives, seed: seed, student: student, teacher: teacher, sampler: sampler)));
}
