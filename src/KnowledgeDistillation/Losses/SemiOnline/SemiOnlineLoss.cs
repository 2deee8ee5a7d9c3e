using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// SOKD, semi-online knowledge distillation (Liu, Liu and Huang, BMVC 2021). A trainable knowledge bridge (typically a
/// fresh copy of the teacher's last stage with a new classifier) runs on the frozen teacher's detached intermediate feature
/// <c>h</c>. The bridge learns from the labels, from the frozen teacher (KD) and from the student (peer teaching); the
/// student learns from the labels and from the bridge:
/// <code>
/// L_A = w1·CE(z_A, y) + w2·KD_T(z_A, sg z_T) + w3·KD_T(z_A, sg z_S)
/// L_S = w4·CE(z_S, y) + w5·KD_T(z_S, sg z_A)
/// </code>
/// with <c>KD_T</c> the T²-scaled, batch-mean KL of <see cref="KDLoss"/>, and the total <c>L_A + L_S</c> minimised by one
/// simultaneous step (each side's peer is detached, so L_A trains only the bridge and L_S only the student). The optional
/// feature extension adds attention transfer between the student's and the bridge's feature maps, both ways, peer
/// detached. The loss owns the bridge (<see cref="IDistillationLoss.TrainableModules"/>), so the engine optimises and
/// checkpoints it; <see cref="BridgeModel"/> evaluates it. Parts: "NAME" and "NAME.bridge-ce", "NAME.bridge-kd-teacher",
/// "NAME.bridge-kd-student", "NAME.student-ce", "NAME.student-kd-bridge" (+ "NAME.bridge-at", "NAME.student-at"), unweighted.
/// One term class on purpose: every sub-term reads the bridge's output, which only this term computes (once per step);
/// <see cref="Recipes.Sokd"/> exposes the mixture's weights.
/// </summary>
public sealed class SemiOnlineLoss : DistillationLoss
{
    private readonly FeatureCapture? _bridgeCapture;

    /// <summary>Creates the loss.</summary>
    /// <param name="bridge">The knowledge bridge: maps the teacher's feature <paramref name="teacherFeature"/> to logits.</param>
    /// <param name="teacherFeature">The teacher feature the bridge reads (the input of the teacher's last stage, e.g. <c>stage2</c>); the teacher participant must capture it.</param>
    /// <param name="temperature">KD temperature T &gt; 0 (the released configuration: 4).</param>
    /// <param name="weights">Term weights (default: every logit term 1, features off).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The frozen teacher's participant name.</param>
    /// <param name="studentFeature">The student's feature map for the feature extension (required when <c>weights.Features</c> &gt; 0).</param>
    /// <param name="bridgeFeature">The bridge submodule whose output is the bridge's feature map (required when <c>weights.Features</c> &gt; 0).</param>
    /// <param name="name">Reporting name (default "sokd").</param>
    public SemiOnlineLoss(
        nn.Module<Tensor, Tensor> bridge,
        string teacherFeature,
        double temperature = 4.0,
        SemiOnlineWeights? weights = null,
        string student = "student",
        string teacher = "teacher",
        string? studentFeature = null,
        string? bridgeFeature = null,
        string name = "sokd")
        : base(name)
    {
        Bridge = bridge ?? throw new ArgumentNullException(nameof(bridge));
        TeacherFeature = Guard.Name(teacherFeature, nameof(teacherFeature));
        Temperature = Guard.Positive(temperature, nameof(temperature));
        Weights = weights ?? new SemiOnlineWeights();
        Weights.Validate();
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        if (Weights.Features > 0)
        {
            StudentFeature = Guard.Name(studentFeature!, nameof(studentFeature));
            BridgeFeature = Guard.Name(bridgeFeature!, nameof(bridgeFeature));
            _bridgeCapture = new FeatureCapture(bridge, new[] { BridgeFeature }, "bridge");
        }
    }

    /// <summary>The trainable knowledge bridge.</summary>
    public nn.Module<Tensor, Tensor> Bridge { get; }

    /// <summary>The teacher feature the bridge reads.</summary>
    public string TeacherFeature { get; }

    /// <summary>The KD temperature.</summary>
    public double Temperature { get; }

    /// <summary>The term weights.</summary>
    public SemiOnlineWeights Weights { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The frozen teacher's participant name.</summary>
    public string Teacher { get; }

    /// <summary>The student feature of the feature extension, if on.</summary>
    public string? StudentFeature { get; }

    /// <summary>The bridge submodule of the feature extension, if on.</summary>
    public string? BridgeFeature { get; }

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => new nn.Module[] { Bridge };

    /// <summary>
    /// A model that evaluates the bridge: the teacher's forward (which must capture <see cref="TeacherFeature"/>) followed by
    /// the bridge. Add it to <see cref="Engine.Distiller.EvaluationModels"/> to report the bridge's accuracy (the paper's
    /// "improved teacher"). Disposing it does not dispose the bridge, which this loss owns. Pass the plain teacher, not a
    /// <see cref="Caching.CachedTeacher"/>: a cache serves only the training samples' indices.
    /// </summary>
    /// <param name="teacher">The teacher participant (the same one the loss reads).</param>
    /// <param name="name">The evaluation name (default "bridge").</param>
    public IDistillationModel BridgeModel(IDistillationModel teacher, string name = "bridge")
    {
        ArgumentNullException.ThrowIfNull(teacher);
        return new KnowledgeBridgeModel(Guard.Name(name, nameof(name)), teacher, TeacherFeature, Bridge);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements
    {
        get
        {
            var requirements = LossRequirements.None.Logits(Student, Teacher).Feature(Teacher, TeacherFeature).Targets();
            return StudentFeature is null ? requirements : requirements.Feature(Student, StudentFeature);
        }
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var teacherOutput = context.Output(Teacher);
        var studentOutput = context.Output(Student);
        var feature = teacherOutput.Feature(TeacherFeature, Teacher).detach();
        var teacherLogits = teacherOutput.RequireLogits(Teacher).detach();
        var studentLogits = studentOutput.RequireLogits(Student);
        _bridgeCapture?.Clear();
        var bridgeLogits = Bridge.call(feature);
        Guard.MatchingLogits(bridgeLogits, "bridge logits", teacherLogits, "teacher logits");
        Guard.MatchingLogits(studentLogits, "student logits", bridgeLogits, "bridge logits");
        var targets = context.Batch.RequireTargets();

        var parts = new Dictionary<string, Tensor>
        {
            [$"{Name}.bridge-ce"] = CrossEntropyLoss.Value(bridgeLogits, targets),
            [$"{Name}.bridge-kd-teacher"] = KDLoss.Value(bridgeLogits, teacherLogits, Temperature),
            [$"{Name}.bridge-kd-student"] = KDLoss.Value(bridgeLogits, studentLogits.detach(), Temperature),
            [$"{Name}.student-ce"] = CrossEntropyLoss.Value(studentLogits, targets),
            [$"{Name}.student-kd-bridge"] = KDLoss.Value(studentLogits, bridgeLogits.detach(), Temperature),
        };
        var w = Weights;
        var total = w.BridgeCrossEntropy * parts[$"{Name}.bridge-ce"]
            + w.BridgeFromTeacher * parts[$"{Name}.bridge-kd-teacher"]
            + w.BridgeFromStudent * parts[$"{Name}.bridge-kd-student"]
            + w.StudentCrossEntropy * parts[$"{Name}.student-ce"]
            + w.StudentFromBridge * parts[$"{Name}.student-kd-bridge"];
        if (_bridgeCapture is not null)
        {
            var bridgeMap = _bridgeCapture.Collect("bridge")[BridgeFeature!];
            var studentMap = studentOutput.Feature(StudentFeature!, Student);
            parts[$"{Name}.bridge-at"] = AttentionTransfer.Value(bridgeMap, studentMap.detach());
            parts[$"{Name}.student-at"] = AttentionTransfer.Value(studentMap, bridgeMap.detach());
            total = total + w.Features * (parts[$"{Name}.bridge-at"] + parts[$"{Name}.student-at"]);
        }

        parts[Name] = total;
        return new LossResult(total, parts);
    }

    /// <summary>Removes the hook the feature extension put on the bridge.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _bridgeCapture?.Dispose();
        }
    }
}

public static partial class Loss
{
    /// <summary>
    /// SOKD's term (Liu, Liu and Huang 2021, "Semi-Online Knowledge Distillation", BMVC, arXiv 2111.11747): the knowledge
    /// bridge's and the student's weighted objectives (see <see cref="SemiOnlineLoss"/>). Reports "NAME" and "NAME.&lt;sub&gt;".
    /// </summary>
    /// <param name="bridge">The knowledge bridge: maps the teacher's feature to logits.</param>
    /// <param name="teacherFeature">The teacher feature the bridge reads.</param>
    /// <param name="temperature">KD temperature T &gt; 0.</param>
    /// <param name="weights">Term weights (default: every logit term 1, features off).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The frozen teacher's participant name.</param>
    /// <param name="studentFeature">The student's feature map for the feature extension.</param>
    /// <param name="bridgeFeature">The bridge submodule of the feature extension.</param>
    /// <param name="name">Reporting name.</param>
    public static SemiOnlineLoss SemiOnline(
        nn.Module<Tensor, Tensor> bridge,
        string teacherFeature,
        double temperature = 4.0,
        SemiOnlineWeights? weights = null,
        string student = "student",
        string teacher = "teacher",
        string? studentFeature = null,
        string? bridgeFeature = null,
        string name = "sokd") =>
        new(bridge, teacherFeature, temperature, weights, student, teacher, studentFeature, bridgeFeature, name);
}

public static partial class Recipes
{
    /// <summary>
    /// SOKD (Liu, Liu and Huang 2021, "Semi-Online Knowledge Distillation", BMVC, arXiv 2111.11747): one simultaneous stage
    /// of <see cref="Loss.SemiOnline"/> (the bridge and the student learn together from a frozen teacher), and the bridge
    /// as an evaluation model named <paramref name="bridgeName"/> (built on the teacher participant; a
    /// <see cref="CachedTeacher"/> is unwrapped, since evaluation samples are not cached).
    /// </summary>
    /// <param name="bridge">The knowledge bridge (owned by the caller; typically <c>ResNetCifar.CreateLastStageBranch</c>).</param>
    /// <param name="teacherFeature">The teacher feature the bridge reads (the teacher must capture it).</param>
    /// <param name="temperature">KD temperature T &gt; 0 (the released configuration: 4).</param>
    /// <param name="weights">The mixture's weights (default: every logit term 1, features off).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The frozen teacher's participant name.</param>
    /// <param name="studentFeature">The student's feature map for the feature extension (when <c>weights.Features</c> &gt; 0).</param>
    /// <param name="bridgeFeature">The bridge submodule of the feature extension (when <c>weights.Features</c> &gt; 0).</param>
    /// <param name="bridgeOptimizer">Optimiser settings of the bridge, or <c>null</c> for the stage's.</param>
    /// <param name="bridgeName">The bridge's evaluation name.</param>
    public static DistillationRecipe Sokd(
        nn.Module<Tensor, Tensor> bridge,
        string teacherFeature,
        double temperature = 4.0,
        SemiOnlineWeights? weights = null,
        string student = "student",
        string teacher = "teacher",
        string? studentFeature = null,
        string? bridgeFeature = null,
        OptimizerOptions? bridgeOptimizer = null,
        string bridgeName = "bridge")
    {
        Guard.Name(bridgeName, nameof(bridgeName));
        var loss = new SemiOnlineLoss(bridge, teacherFeature, temperature, weights, student, teacher, studentFeature, bridgeFeature);
        var stage = new DistillationStage(DistillationRecipe.SingleStage, loss)
        {
            ParticipantOptimizers = bridgeOptimizer is null
                ? null
                : new Dictionary<string, OptimizerOptions> { [DistillationStage.LossModulesOwner] = bridgeOptimizer },
        };
        return new DistillationRecipe("sokd", new[] { stage }, new Func<IReadOnlyList<IDistillationModel>, IDistillationModel>[]
        {
            participants =>
            {
                var model = DistillationRecipe.Participant(participants, teacher);
                var plain = model is CachedTeacher cached ? cached.Inner : model;
                return loss.BridgeModel(plain, bridgeName);
            },
        });
    }
}
