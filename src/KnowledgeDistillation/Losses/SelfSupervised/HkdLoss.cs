using KnowledgeDistillation.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Holistic knowledge distillation (Zhou, Wang, Chen, Chen, Wang, Wang and Bu, "Distilling Holistic Knowledge with Graph
/// Neural Networks", ICCV 2021, arXiv 2108.05507; wyc-ruiker/HKD <c>distiller_zoo/GNN.py</c>, <c>GNNLoss</c>). The
/// student's and the teacher's features pass through <see cref="CrdEmbedding"/> heads to unit embeddings e_s, e_t; two
/// memory banks [N, D] hold the student's (M_s) and the teacher's (M_t) embeddings per training sample; for each sample K
/// negatives are drawn (the official code: from the other classes, <see cref="ClassAwareCrdNegativeSampler"/>).
/// With <c>NCE(a, p, {n_j}) = −log(exp(a·p/τ) / (exp(a·p/τ) + Σ_j exp(a·n_j/τ)))</c> averaged over the batch:
/// <list type="number">
/// <item>individual: <c>NCE(e_s, M_t[i], M_s[neg]) + NCE(e_t, M_s[i], M_t[neg])</c> (negatives from the anchor's own bank, as the code);</item>
/// <item>graphs: for each side a kNN graph over the batch from its detached logits (<see cref="HkdGraph"/>), and its GNN
/// (<see cref="HkdGraphEncoder"/>) turns e into holistic embeddings g;</item>
/// <item>holistic: <c>NCE(g_s, p_t, M_s[neg]) + NCE(g_t, p_s, M_t[neg])</c> with the smoothed positives
/// <c>p_t = normalize(0.75 M_t[i] + 0.25 g_t)</c>, <c>p_s = normalize(0.75 M_s[i] + 0.25 g_s)</c> (detached); skipped when
/// the batch has fewer than k samples.</item>
/// </list>
/// After the optimiser step (<see cref="OnStepEnd"/>) the batch's bank rows move to <c>normalize(μ M[i] + (1 − μ) e)</c>
/// (μ = 0.9), except after a batch smaller than k, where the official code returns before its update. Banks and the update
/// count (which drives the sampler) are checkpointed loss state. Heads and GNNs are the term's trainable modules; the teacher's
/// features are detached, its head and GNN learn through the teacher-anchored terms. Reports "NAME", "NAME.individual",
/// "NAME.holistic".
/// </summary>
public sealed class HkdLoss : DistillationLoss
{
    private readonly nn.Module[] _modules;
    private readonly MemoryBankPair _banks;

    /// <summary>Creates the term with banks initialised as the official code does (uniform in ±1/√(D/3)), from <paramref name="seed"/>.</summary>
    /// <param name="feature">The student feature and the teacher feature that are embedded (the pooled penultimate features).</param>
    /// <param name="studentEmbedding">The student's head (its D_in is the student feature's width).</param>
    /// <param name="teacherEmbedding">The teacher's head (same D_out).</param>
    /// <param name="studentGraph">The student's GNN (D_out → D_out).</param>
    /// <param name="teacherGraph">The teacher's GNN (D_out → D_out).</param>
    /// <param name="dataSize">N &gt;= 1, the training set's size.</param>
    /// <param name="negatives">K in [1, N], negatives per sample (the official code: 16384).</param>
    /// <param name="temperature">τ &gt; 0 (the official code: 0.07).</param>
    /// <param name="neighbours">k &gt;= 1, graph neighbours per node including itself (the official code: 8).</param>
    /// <param name="momentum">μ in [0, 1), the bank's own weight in its update (0.9).</param>
    /// <param name="smoothing">The bank's weight in the smoothed positives, in [0, 1] (0.75).</param>
    /// <param name="seed">Seed of the banks and of the default sampler.</param>
    /// <param name="sampler">The negatives' sampler; <c>null</c>: uniform over the bank.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "hkd").</param>
    /// <exception cref="ArgumentOutOfRangeException">N, K or k is out of range, τ &lt;= 0, or μ or the smoothing is out of range.</exception>
    /// <exception cref="ArgumentException">The heads' or the GNNs' widths do not chain.</exception>
    public HkdLoss(
        FeaturePair feature,
        CrdEmbedding studentEmbedding,
        CrdEmbedding teacherEmbedding,
        HkdGraphEncoder studentGraph,
        HkdGraphEncoder teacherGraph,
        long dataSize,
        int negatives = 16384,
        double temperature = 0.07,
        int neighbours = 8,
        double momentum = 0.9,
        double smoothing = 0.75,
        long seed = 0,
        ICrdNegativeSampler? sampler = null,
        string student = "student",
        string teacher = "teacher",
        string name = "hkd")
        : base(name)
    {
        Feature = feature ?? throw new ArgumentNullException(nameof(feature));
        StudentEmbedding = studentEmbedding ?? throw new ArgumentNullException(nameof(studentEmbedding));
        TeacherEmbedding = teacherEmbedding ?? throw new ArgumentNullException(nameof(teacherEmbedding));
        StudentGraph = studentGraph ?? throw new ArgumentNullException(nameof(studentGraph));
        TeacherGraph = teacherGraph ?? throw new ArgumentNullException(nameof(teacherGraph));
        var width = studentEmbedding.OutputDimension;
        if (teacherEmbedding.OutputDimension != width)
        {
            throw new ArgumentException($"The HKD heads must embed into one space: the student's outputs {width} values, the teacher's {teacherEmbedding.OutputDimension}.", nameof(teacherEmbedding));
        }

        foreach (var (graph, what) in new[] { (studentGraph, nameof(studentGraph)), (teacherGraph, nameof(teacherGraph)) })
        {
            if (graph.InputDimension != width || graph.OutputDimension != width)
            {
                throw new ArgumentException($"The {what} must map the {width}-wide embeddings to {width} values (the banks' width); it maps {graph.InputDimension} to {graph.OutputDimension}.", what);
            }
        }

        DataSize = dataSize >= 1 ? dataSize : throw new ArgumentOutOfRangeException(nameof(dataSize), dataSize, "The memory bank needs the training set's size N >= 1 (one row per sample).");
        Negatives = negatives >= 1 && negatives <= dataSize
            ? negatives
            : throw new ArgumentOutOfRangeException(nameof(negatives), negatives, $"HKD needs K in [1, N = {dataSize}] negatives per sample: a bank of N rows cannot give more distinct negatives than the dataset has samples.");
        Temperature = Guard.Positive(temperature, nameof(temperature));
        Neighbours = neighbours >= 1 ? neighbours : throw new ArgumentOutOfRangeException(nameof(neighbours), neighbours, "The graph needs k >= 1 neighbours per node.");
        Momentum = momentum is >= 0 and < 1 ? momentum : throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "The bank momentum must be in [0, 1).");
        Smoothing = Guard.InRange(smoothing, 0, 1, nameof(smoothing));
        Seed = seed;
        Sampler = sampler ?? new UniformCrdNegativeSampler(seed);
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        _modules = new nn.Module[] { studentEmbedding, teacherEmbedding, studentGraph, teacherGraph };
        _banks = new MemoryBankPair(dataSize, width, seed, momentum, "HKD");
    }

    /// <summary>The embedded features.</summary>
    public FeaturePair Feature { get; }

    /// <summary>The student's head.</summary>
    public CrdEmbedding StudentEmbedding { get; }

    /// <summary>The teacher's head.</summary>
    public CrdEmbedding TeacherEmbedding { get; }

    /// <summary>The student's GNN.</summary>
    public HkdGraphEncoder StudentGraph { get; }

    /// <summary>The teacher's GNN.</summary>
    public HkdGraphEncoder TeacherGraph { get; }

    /// <summary>N.</summary>
    public long DataSize { get; }

    /// <summary>K.</summary>
    public int Negatives { get; }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>k.</summary>
    public int Neighbours { get; }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <summary>The bank's weight in the smoothed positives.</summary>
    public double Smoothing { get; }

    /// <summary>The seed of the banks.</summary>
    public long Seed { get; }

    /// <summary>The negatives' sampler.</summary>
    public ICrdNegativeSampler Sampler { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>Bank updates so far (the step number the sampler receives).</summary>
    public long Updates => _banks.Updates;

    /// <inheritdoc />
    public override LossRequirements Requirements =>
        LossRequirements.None.Feature(Student, Feature.Student).Feature(Teacher, Feature.Teacher).Logits(Student, Teacher).Indices();

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => new ILossState[] { new BankState(this) };

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A feature does not fit its head, the logits are not [B, C], or the indices are not int64 [B].</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the bank.</exception>
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentWhat = $"feature '{Feature.Student}' of '{Student}'";
        var teacherWhat = $"feature '{Feature.Teacher}' of '{Teacher}'";
        var studentOutput = context.Output(Student);
        var teacherOutput = context.Output(Teacher);
        var fs = studentOutput.Feature(Feature.Student, Student);
        var ft = teacherOutput.Feature(Feature.Teacher, Teacher).detach();
        FeatureDistillationLoss.CheckPair(fs, studentWhat, ft, teacherWhat);
        StudentEmbedding.CheckInput(fs, studentWhat);
        TeacherEmbedding.CheckInput(ft, teacherWhat);
        var batch = fs.shape[0];
        var ls = Guard.BatchSize(Guard.Rank(studentOutput.RequireLogits(Student), 2, $"logits of '{Student}'", "[batch, classes]"), batch, $"logits of '{Student}'");
        var lt = Guard.BatchSize(Guard.Rank(teacherOutput.RequireLogits(Teacher), 2, $"logits of '{Teacher}'", "[batch, classes]"), batch, $"logits of '{Teacher}'");
        var indices = _banks.CheckIndices(context.Batch.Indices, batch, fs.device);

        var es = StudentEmbedding.call(fs);
        var et = TeacherEmbedding.call(ft);
        _banks.MoveTo(es);
        var negatives = _banks.CheckNegatives(Sampler.Sample(indices, DataSize, Negatives, Updates), batch, Negatives, fs.device);
        var flat = negatives.reshape(-1);
        var studentNegatives = _banks.Student.index_select(0, flat).reshape(batch, Negatives, -1);
        var teacherNegatives = _banks.Teacher.index_select(0, flat).reshape(batch, Negatives, -1);
        var studentRows = _banks.Student.index_select(0, indices);
        var teacherRows = _banks.Teacher.index_select(0, indices);

        var individual = Nce(es, teacherRows, studentNegatives) + Nce(et, studentRows, teacherNegatives);
        var total = individual;
        var holistic = zeros(1, es.dtype, es.device).squeeze();
        if (batch >= Neighbours)
        {
            var gs = StudentGraph.call(es, HkdGraph.Adjacency(ls.detach().to_type(es.dtype), Neighbours));
            var gt = TeacherGraph.call(et, HkdGraph.Adjacency(lt.detach().to_type(et.dtype), Neighbours));
            var smoothedStudent = Smooth(studentRows, gs);
            var smoothedTeacher = Smooth(teacherRows, gt);
            holistic = Nce(gs, smoothedTeacher, studentNegatives) + Nce(gt, smoothedStudent, teacherNegatives);
            total = individual + holistic;
        }

        if (batch >= Neighbours)
        {
            _banks.Remember(indices, es, et);
        }
        else
        {
            _banks.Forget();
        }

        return new LossResult(total, new Dictionary<string, Tensor>
        {
            [Name] = total,
            [$"{Name}.individual"] = individual.detach(),
            [$"{Name}.holistic"] = holistic.detach(),
        });
    }

    /// <summary>Moves the batch's bank rows towards the last <see cref="Compute"/>'s embeddings and counts the update.</summary>
    /// <param name="context">The step's context.</param>
    public override void OnStepEnd(DistillationContext context) => _banks.Apply();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _banks.Dispose();
        }
    }

    private Tensor Nce(Tensor anchor, Tensor positive, Tensor negatives)
    {
        var pos = (anchor * positive.detach()).sum(1, keepdim: true);
        var neg = bmm(negatives.detach(), anchor.unsqueeze(2)).squeeze(2);
        var logits = cat(new[] { pos, neg }, 1) / Temperature;
        return nn.functional.cross_entropy(logits, zeros(anchor.shape[0], ScalarType.Int64, anchor.device));
    }

    private Tensor Smooth(Tensor rows, Tensor holistic)
    {
        using var noGrad = no_grad();
        return MemoryBankPair.UnitMix(rows, holistic.detach(), Smoothing);
    }

    private sealed class BankState(HkdLoss owner) : ILossState
    {
        public string Name => $"{owner.Name}.memory";

        public IReadOnlyDictionary<string, Tensor> Export() => owner._banks.Export().ToDictionary(p => p.Key, p => p.Value);

        public void Import(IReadOnlyDictionary<string, Tensor> state) => owner._banks.Import(state);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Zhou et al. (2021), HKD: contrastive distillation of individual and GNN-aggregated holistic embeddings against two
    /// memory banks (see <see cref="HkdLoss"/>). Reports "NAME", "NAME.individual", "NAME.holistic". The official objective is
    /// <c>CE + 3 · hkd</c> (plus <c>KD</c> for HKD+KD): <see cref="Recipes.Hkd"/>.
    /// </summary>
    /// <param name="feature">The embedded student and teacher features.</param>
    /// <param name="studentEmbedding">The student's head.</param>
    /// <param name="teacherEmbedding">The teacher's head.</param>
    /// <param name="studentGraph">The student's GNN.</param>
    /// <param name="teacherGraph">The teacher's GNN.</param>
    /// <param name="dataSize">N.</param>
    /// <param name="negatives">K.</param>
    /// <param name="temperature">τ.</param>
    /// <param name="neighbours">k.</param>
    /// <param name="seed">Seed of the banks and the default sampler.</param>
    /// <param name="sampler">The negatives' sampler; <c>null</c>: uniform. The official code draws from the other classes (<see cref="ClassAwareCrdNegativeSampler"/>).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static HkdLoss Hkd(FeaturePair feature, CrdEmbedding studentEmbedding, CrdEmbedding teacherEmbedding, HkdGraphEncoder studentGraph, HkdGraphEncoder teacherGraph, long dataSize, int negatives = 16384, double temperature = 0.07, int neighbours = 8, long seed = 0, ICrdNegativeSampler? sampler = null, string student = "student", string teacher = "teacher", string name = "hkd") =>
        new(feature, studentEmbedding, teacherEmbedding, studentGraph, teacherGraph, dataSize, negatives, temperature, neighbours, seed: seed, sampler: sampler, student: student, teacher: teacher, name: name);
}

public static partial class Recipes
{
    /// <summary>
    /// Zhou et al. (2021), HKD's objective in one stage (wyc-ruiker/HKD <c>--distill hkd -r 1 -a α -b 3</c>):
    /// <c>CE + α · KD(T = 4) + β · hkd</c>, α = 0 ("HKD") or 1 ("HKD+KD"), β = 3.
    /// </summary>
    /// <param name="hkd">The HKD term (<see cref="Loss.Hkd"/>).</param>
    /// <param name="kdWeight">α &gt;= 0 (0: HKD, 1: HKD+KD).</param>
    /// <param name="hkdWeight">β &gt;= 0 (3).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    public static DistillationRecipe Hkd(HkdLoss hkd, double kdWeight = 0, double hkdWeight = 3, string student = "student", string teacher = "teacher")
    {
        ArgumentNullException.ThrowIfNull(hkd);
        DistillationLoss objective = new CrossEntropyLoss(student) + (Guard.NonNegative(hkdWeight, nameof(hkdWeight)) * hkd);
        if (Guard.NonNegative(kdWeight, nameof(kdWeight)) > 0)
        {
            objective = objective + (kdWeight * new KDLoss(4, student: student, teacher: teacher));
        }

        return Of(kdWeight > 0 ? "hkd-kd" : "hkd", objective);
    }
}
