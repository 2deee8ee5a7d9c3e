using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Fcos;
using KnowledgeDistillation.Detection.Models;
using KnowledgeDistillation.Losses;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Detection.Losses;

/// <summary>
/// ICD, instance-conditional knowledge distillation (Kang, Zhang, Liu, Wang, Sun, Cheng; "Instance-Conditional Knowledge
/// Distillation for Object Detection", NeurIPS 2021, arXiv 2110.12724; official code megvii-research/ICD). Instance
/// queries (<see cref="InstanceEncoder"/>: class, jittered reference point, scale) attend to the frozen teacher's FPN
/// positions through <see cref="IcdDecoder"/>; an auxiliary task (<see cref="IcdAuxiliaryHead"/>: real vs fake instance,
/// localisation of the real box) trains the encoder and decoder; the attention of the real instances then weights an
/// MSE between the student's and the teacher's per-head values (student side through its own
/// <see cref="HeadValueProjection"/>, both LayerNorm-ed over the head dimension without affine, teacher values and mask
/// detached): <c>λ · mean_{b,h,c} Σ_s w_bhs (V^S − V^T)²_bshc / max(Σ_s w_bhs, 1e-6)</c>, w = Σ_real softmax_s(A/τ).
/// For the first <see cref="IcdOptions.WarmupSteps"/> steps only the auxiliary task runs (a step counter kept as
/// checkpointed loss state). Reports "NAME" (aux + distill), "NAME.aux", "NAME.distill", and the diagnostics
/// "NAME.aux-identify" (the real/fake BCE), "NAME.aux-localise", "NAME.aux-acc" (real/fake accuracy over valid queries) and "NAME.aux-recall" (the share of real queries identified as real; 0 while the task sits at its prior of calling everything fake). All four modules are this term's trainable modules (one optimiser:
/// <c>Recipes.Icd</c> gives them AdamW, lr 1e-4, wd 1e-4).
/// </summary>
public sealed class IcdLoss : DistillationLoss
{
    private readonly nn.Module[] _modules;
    private readonly Tensor _steps;

    /// <summary>Creates the term and its modules (weights from TorchSharp's global generator).</summary>
    /// <param name="options">Options; <c>null</c> for the defaults.</param>
    /// <param name="student">The student detector's participant name.</param>
    /// <param name="teacher">The teacher detector's participant name.</param>
    /// <param name="name">Reporting name (default "icd").</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public IcdLoss(IcdOptions? options = null, string student = "student", string teacher = "teacher", string name = "icd")
        : base(name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(student);
        ArgumentException.ThrowIfNullOrWhiteSpace(teacher);
        Options = options ?? new IcdOptions();
        Options.Validate();
        (Student, Teacher) = (student, teacher);
        Encoder = new InstanceEncoder(Options.Classes, Options.TeacherChannels);
        Decoder = new IcdDecoder(Options.TeacherChannels, Options.Heads);
        AuxiliaryHead = new IcdAuxiliaryHead(Options.TeacherChannels);
        StudentValues = new HeadValueProjection(Options.StudentChannels ?? Options.TeacherChannels, Options.TeacherChannels, Options.Heads);
        _modules = new nn.Module[] { Encoder, Decoder, AuxiliaryHead, StudentValues };
        _steps = zeros(1, dtype: ScalarType.Int64).DetachFromDisposeScope();
    }

    /// <summary>The options.</summary>
    public IcdOptions Options { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>The instance encoder.</summary>
    public InstanceEncoder Encoder { get; }

    /// <summary>The decoder (its value projection is the teacher-side W_v).</summary>
    public IcdDecoder Decoder { get; }

    /// <summary>The real/fake and localisation heads.</summary>
    public IcdAuxiliaryHead AuxiliaryHead { get; }

    /// <summary>The student-side value projection W'_v.</summary>
    public HeadValueProjection StudentValues { get; }

    /// <summary>Training steps taken so far with this term (drives the warm-up).</summary>
    public long StepsTaken => _steps.item<long>();

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <inheritdoc />
    public override IReadOnlyList<ILossState> State => new ILossState[] { new StepState(Name, _steps) };

    /// <inheritdoc />
    public override LossRequirements Requirements
    {
        get
        {
            var r = LossRequirements.None.Targets().Extra(DetectionTargets.ImageSize);
            foreach (var level in FcosDetectorOptions.Levels)
            {
                r = r.Feature(Student, level).Feature(Teacher, level);
            }

            return r;
        }
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        DetectionTargets.Require(context.Batch, nameof(context));
        var teacherLevels = FcosDetectorOptions.Levels.Select(l => context.Output(Teacher).Feature(l, Teacher)).ToArray();
        var studentLevels = FcosDetectorOptions.Levels.Select(l => context.Output(Student).Feature(l, Student)).ToArray();
        for (var l = 0; l < teacherLevels.Length; l++)
        {
            var (t, s) = (teacherLevels[l], studentLevels[l]);
            if (t.dim() != 4 || s.dim() != 4 || t.shape[0] != s.shape[0] || t.shape[2] != s.shape[2] || t.shape[3] != s.shape[3] || t.shape[1] != Options.TeacherChannels || s.shape[1] != (Options.StudentChannels ?? Options.TeacherChannels))
            {
                throw new ArgumentException($"ICD needs teacher and student {FcosDetectorOptions.Levels[l]} maps of one spatial size with {Options.TeacherChannels} and {Options.StudentChannels ?? Options.TeacherChannels} channels (IcdOptions); got teacher {Guard.Shape(t)}, student {Guard.Shape(s)}.", nameof(context));
            }
        }

        var pass = Auxiliary(context, teacherLevels);
        var (queries, decoded) = (pass.Queries, pass.Decoded);
        var (confidence, localisation, accuracy) = AuxiliaryLoss(pass.Outputs, queries);
        var aux = confidence + localisation;
        Tensor distill;
        Tensor total;
        if (StepsTaken < Options.WarmupSteps)
        {
            distill = zeros(new long[] { }, device: aux.device);
            total = aux;
        }
        else
        {
            distill = MaskedFeatureLoss(StudentValues.call(Flatten(studentLevels)), decoded.TeacherValues, decoded.AttentionLogits, queries.Real, Options.Temperature, Options.Weight);
            total = aux + distill;
        }

        return new LossResult(total, new Dictionary<string, Tensor>
        {
            [Name] = total, [Name + ".aux"] = aux, [Name + ".distill"] = distill,
            [Name + ".aux-identify"] = confidence, [Name + ".aux-localise"] = localisation, [Name + ".aux-acc"] = accuracy,
            [Name + ".aux-recall"] = RealRecall(pass.Outputs, queries),
        });
    }

    /// <summary>
    /// The auxiliary task's forward pass on one context (no optimisation): queries drawn for the context's epoch and step,
    /// encoded, decoded over the teacher's detached FPN positions, and the auxiliary heads' outputs.
    /// </summary>
    /// <param name="context">The context (targets, image sizes and the teacher's FPN levels).</param>
    internal IcdAuxiliaryPass Auxiliary(DistillationContext context) =>
        Auxiliary(context, FcosDetectorOptions.Levels.Select(l => context.Output(Teacher).Feature(l, Teacher)).ToArray());

    /// <summary>The auxiliary task's forward pass on the teacher's FPN levels already read from the context.</summary>
    /// <param name="context">The context (targets and image sizes).</param>
    /// <param name="teacherLevels">The teacher's P3-P7 maps.</param>
    internal IcdAuxiliaryPass Auxiliary(DistillationContext context, Tensor[] teacherLevels)
    {
        var targets = DetectionTargets.Require(context.Batch, nameof(context));
        var imageSizes = context.Batch.Extras[DetectionTargets.ImageSize];
        var teacherFeatures = Flatten(teacherLevels).detach();
        var (positions, padding) = Positions(teacherLevels, imageSizes);
        var queries = IcdQuerySampler.Sample(targets, imageSizes, Options, context.Epoch, context.Step);
        var q = Encoder.call(queries.Classes, queries.ReferencePoints, queries.BoxSizes);
        var decoded = Decoder.call(q, teacherFeatures, SineEmbedding.Encode(positions, Options.TeacherChannels / 2), padding);
        return new IcdAuxiliaryPass(queries, decoded, AuxiliaryHead.call(decoded.Queries));
    }

    /// <summary>The share of real queries identified as real (logit &gt; 0), without gradient.</summary>
    internal static Tensor RealRecall(Tensor auxiliary, IcdQueries queries)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var real = queries.Real.to(auxiliary.dtype);
        var identified = (auxiliary[.., .., 0] > 0).to(auxiliary.dtype) * real;
        return (identified.sum() / real.sum().clamp_min(1)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override void OnStepEnd(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.IsTraining)
        {
            _steps.add_(1);
        }
    }

    /// <summary>
    /// The auxiliary task: <c>BCE(conf, real)</c> averaged over valid queries, plus for real queries
    /// <c>Σ_j |σ(reg_j) − t_j| / s_j</c> averaged over them (t: distances from the reference point to the left, top, right,
    /// bottom edges over the image size; s: the box's width for left/right, height for top/bottom, over the image size).
    /// </summary>
    /// <param name="auxiliary">Head outputs <c>[B, M, 5]</c>.</param>
    /// <param name="queries">The queries.</param>
    /// <returns>The identification loss, the localisation loss, and the identification accuracy (no gradient).</returns>
    public static (Tensor Identification, Tensor Localisation, Tensor Accuracy) AuxiliaryLoss(Tensor auxiliary, IcdQueries queries)
    {
        ArgumentNullException.ThrowIfNull(auxiliary);
        ArgumentNullException.ThrowIfNull(queries);
        if (auxiliary.dim() != 3 || auxiliary.shape[2] != 5 || !auxiliary.shape[..2].SequenceEqual(queries.Valid.shape))
        {
            throw new ArgumentException($"Auxiliary outputs must be [B, M, 5] over the queries {Guard.Shape(queries.Valid)}; got {Guard.Shape(auxiliary)}.", nameof(auxiliary));
        }

        using var scope = NewDisposeScope();
        var valid = queries.Valid.to(auxiliary.dtype);
        var real = queries.Real.to(auxiliary.dtype);
        var logit = auxiliary[.., .., 0];
        var bce = nn.functional.binary_cross_entropy_with_logits(logit, real, reduction: nn.Reduction.None);
        var identification = (bce * valid).sum() / valid.sum().clamp_min(1);
        var (rx, ry) = (queries.ReferencePoints[.., .., 0], queries.ReferencePoints[.., .., 1]);
        var box = queries.Boxes.to(auxiliary.dtype);
        var (x1, y1, x2, y2) = (box[.., .., 0], box[.., .., 1], box[.., .., 2], box[.., .., 3]);
        var t = stack(new[] { rx - x1, ry - y1, x2 - rx, y2 - ry }, -1).to(auxiliary.dtype);
        var (w, h) = ((x2 - x1).clamp_min(1e-6), (y2 - y1).clamp_min(1e-6));
        var s = stack(new[] { w, h, w, h }, -1);
        var perQuery = ((auxiliary[.., .., 1..].sigmoid() - t).abs() / s).sum(-1);
        var localisation = (perQuery * real).sum() / real.sum().clamp_min(1);
        Tensor accuracy;
        using (no_grad())
        {
            accuracy = (((logit > 0).to(auxiliary.dtype) == real).to(auxiliary.dtype) * valid).sum() / valid.sum().clamp_min(1);
        }

        scope.MoveToOuter(identification, localisation, accuracy);
        return (identification, localisation, accuracy);
    }

    /// <summary>
    /// The instance-conditioned masked feature MSE:
    /// <c>λ · mean_{b,h,c} Σ_s w_bhs (LN(V^S) − LN(V^T))²_bshc / max(Σ_s w_bhs, 1e-6)</c>, w_bhs = Σ_{m real} softmax_s(A_bhms / τ);
    /// LN over the head dimension without affine; the teacher values and the mask are detached.
    /// </summary>
    /// <param name="studentValues">Student values <c>[B, S, H, d]</c>.</param>
    /// <param name="teacherValues">Teacher values <c>[B, S, H, d]</c>.</param>
    /// <param name="attentionLogits">Attention logits <c>[B, H, M, S]</c>.</param>
    /// <param name="real">Real queries <c>[B, M]</c>.</param>
    /// <param name="temperature">τ &gt; 0.</param>
    /// <param name="weight">λ &gt;= 0.</param>
    /// <exception cref="ArgumentException">The shapes disagree.</exception>
    public static Tensor MaskedFeatureLoss(Tensor studentValues, Tensor teacherValues, Tensor attentionLogits, Tensor real, double temperature, double weight)
    {
        ArgumentNullException.ThrowIfNull(studentValues);
        ArgumentNullException.ThrowIfNull(teacherValues);
        ArgumentNullException.ThrowIfNull(attentionLogits);
        ArgumentNullException.ThrowIfNull(real);
        if (studentValues.dim() != 4 || !studentValues.shape.SequenceEqual(teacherValues.shape) || attentionLogits.dim() != 4
            || attentionLogits.shape[0] != studentValues.shape[0] || attentionLogits.shape[1] != studentValues.shape[2] || attentionLogits.shape[3] != studentValues.shape[1]
            || !real.shape.SequenceEqual(new[] { attentionLogits.shape[0], attentionLogits.shape[2] }))
        {
            throw new ArgumentException($"Need student and teacher values [B, S, H, d], attention logits [B, H, M, S] and the real mask [B, M]; got {Guard.Shape(studentValues)}, {Guard.Shape(teacherValues)}, {Guard.Shape(attentionLogits)}, {Guard.Shape(real)}.", nameof(attentionLogits));
        }

        Guard.Positive(temperature, nameof(temperature));
        using var scope = NewDisposeScope();
        var d = studentValues.shape[3];
        var vs = nn.functional.layer_norm(studentValues, new[] { d });
        var vt = nn.functional.layer_norm(teacherValues.detach(), new[] { d });
        Tensor mask;
        using (no_grad())
        {
            var attention = (attentionLogits.detach() / temperature).softmax(-1);             // [B, H, M, S]
            mask = (attention * real.to(attention.dtype).view(real.shape[0], 1, real.shape[1], 1)).sum(2);   // [B, H, S]
        }

        var squared = (vs - vt).pow(2);                                                       // [B, S, H, d]
        var weighted = einsum("bhs,bshc->bhc", mask.to(squared.dtype), squared);
        var normaliser = mask.sum(-1, keepdim: true).clamp_min(1e-6).to(squared.dtype);      // [B, H, 1]
        return (weight * (weighted / normaliser).mean()).MoveToOuterDisposeScope();
    }

    /// <summary>Flattens FPN levels <c>[B, D, h, w]</c> into positions <c>[B, S, D]</c>, level by level, row-major (the order of <see cref="FcosPoints"/>).</summary>
    /// <param name="levels">The levels.</param>
    public static Tensor Flatten(IReadOnlyList<Tensor> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        using var scope = NewDisposeScope();
        return cat(levels.Select(f => f.flatten(2).transpose(1, 2)).ToArray(), 1).MoveToOuterDisposeScope();
    }

    /// <summary>Each position's centre normalised by its image's valid size <c>[B, S, 2]</c>, and the padding mask <c>[B, S]</c> (cells whose top-left pixel lies outside the valid image).</summary>
    /// <param name="levels">The levels (for their sizes).</param>
    /// <param name="imageSizes">Valid (height, width) per image <c>[B, 2]</c>.</param>
    public static (Tensor Positions, Tensor Padding) Positions(IReadOnlyList<Tensor> levels, Tensor imageSizes)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentNullException.ThrowIfNull(imageSizes);
        using var scope = NewDisposeScope();
        var (points, strides, _) = FcosPoints.Create(levels.Select(f => (f.shape[2], f.shape[3])).ToArray(), FcosDetectorOptions.Strides.Take(levels.Count).ToArray(), levels[0].device);
        var wh = imageSizes.to(ScalarType.Float32).flip(1).unsqueeze(1);                      // [B, 1, 2] (w, h)
        var normalised = points.unsqueeze(0) / wh;                                              // [B, S, 2]
        // A cell is padding when its top-left pixel is (DETR's mask, downsampled by nearest sampling).
        var origin = points - (strides / 2).floor().unsqueeze(1);
        var padding = (origin.unsqueeze(0) >= wh).any(-1);
        scope.MoveToOuter(normalised, padding);
        return (normalised, padding);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var m in _modules)
            {
                m.Dispose();
            }

            _steps.Dispose();
        }
    }

    private sealed class StepState(string name, Tensor steps) : ILossState
    {
        public string Name => name + ".steps";

        public IReadOnlyDictionary<string, Tensor> Export() => new Dictionary<string, Tensor> { ["steps"] = steps };

        public void Import(IReadOnlyDictionary<string, Tensor> state) => steps.copy_(state["steps"]);
    }
}
