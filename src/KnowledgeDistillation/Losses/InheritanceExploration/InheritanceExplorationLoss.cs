using KnowledgeDistillation.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Huang et al. (CVPR 2021), "Revisiting Knowledge Distillation: An Inheritance and Exploration Framework" (IE-KD): the
/// student's feature map is split channel-wise; the inheritance half, encoded by Enc_I, is pulled towards the teacher's
/// autoencoder factor f_t = Enc_t(F_t) and the exploration half, encoded by Enc_E, is pushed away from it:
/// <c>λ_inh · FT_L1(Enc_I(F^I), f_t) + λ_exp · L_exp(Enc_E(F^E), f_t)</c>. Enc_I and Enc_E are this loss's trainable
/// modules; add the task loss yourself (<c>new CrossEntropyLoss() + ie</c>).
/// </summary>
public sealed class InheritanceExplorationLoss : DistillationLoss
{
    private readonly nn.Module[] _modules;

    /// <summary>Creates the loss and its student-side encoders (C/2 → C' each, freshly initialised).</summary>
    /// <param name="teacherAutoencoder">The teacher's autoencoder (C_t → C'), trained beforehand for <see cref="TeacherAutoencoderMode.Frozen"/>.</param>
    /// <param name="split">The student's channel split (<see cref="ChannelSplit.Natural"/> is the official default).</param>
    /// <param name="studentFeature">The student's feature name (its last-stage map, <c>[B, C, H, W]</c>).</param>
    /// <param name="teacherFeature">The teacher's feature name (<c>[B, C_t, H, W]</c>, same B, H, W); <c>null</c> uses <paramref name="studentFeature"/>.</param>
    /// <param name="inheritanceWeight">λ_inh &gt;= 0 (official configuration: 1).</param>
    /// <param name="explorationWeight">λ_exp &gt;= 0 (official configuration: 1).</param>
    /// <param name="exploration">The exploration dis-similarity (default the negative L1).</param>
    /// <param name="autoencoderMode">Frozen (IE-KD) or trained online in the same step (IE-DML, where the teacher is a peer).</param>
    /// <param name="reconstructionWeight">λ_rec &gt;= 0 of the reconstruction term in <see cref="TeacherAutoencoderMode.Online"/> mode.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's (or peer's) participant name.</param>
    /// <param name="name">Reporting name (default "ie"); parts "NAME.inherit", "NAME.explore" (and "NAME.reconstruct" when online).</param>
    public InheritanceExplorationLoss(
        FactorAutoencoder teacherAutoencoder,
        ChannelSplit split,
        string studentFeature,
        string? teacherFeature = null,
        double inheritanceWeight = 1.0,
        double explorationWeight = 1.0,
        ExplorationForm exploration = ExplorationForm.NegativeL1,
        TeacherAutoencoderMode autoencoderMode = TeacherAutoencoderMode.Frozen,
        double reconstructionWeight = 1.0,
        string student = "student",
        string teacher = "teacher",
        string name = "ie")
        : base(name)
    {
        Autoencoder = teacherAutoencoder ?? throw new ArgumentNullException(nameof(teacherAutoencoder));
        ArgumentNullException.ThrowIfNull(split);
        StudentFeature = Guard.Name(studentFeature, nameof(studentFeature));
        TeacherFeature = teacherFeature is null ? StudentFeature : Guard.Name(teacherFeature, nameof(teacherFeature));
        InheritanceWeight = Guard.NonNegative(inheritanceWeight, nameof(inheritanceWeight));
        ExplorationWeight = Guard.NonNegative(explorationWeight, nameof(explorationWeight));
        ReconstructionWeight = Guard.NonNegative(reconstructionWeight, nameof(reconstructionWeight));
        Exploration = Enum.IsDefined(exploration) ? exploration : throw new ArgumentOutOfRangeException(nameof(exploration), exploration, "Unknown exploration form.");
        AutoencoderMode = Enum.IsDefined(autoencoderMode) ? autoencoderMode : throw new ArgumentOutOfRangeException(nameof(autoencoderMode), autoencoderMode, "Unknown autoencoder mode.");
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
        Encoders = new InheritanceExplorationEncoders(split, teacherAutoencoder.FactorChannels);
        _modules = autoencoderMode == TeacherAutoencoderMode.Online ? new nn.Module[] { Encoders, Autoencoder } : new nn.Module[] { Encoders };
    }

    /// <summary>The teacher's autoencoder.</summary>
    public FactorAutoencoder Autoencoder { get; }

    /// <summary>The student-side encoders and the split (a trainable module of this loss).</summary>
    public InheritanceExplorationEncoders Encoders { get; }

    /// <summary>The channel split in effect.</summary>
    public ChannelSplit Split => Encoders.Split;

    /// <summary>The student's feature name.</summary>
    public string StudentFeature { get; }

    /// <summary>The teacher's feature name.</summary>
    public string TeacherFeature { get; }

    /// <summary>λ_inh.</summary>
    public double InheritanceWeight { get; }

    /// <summary>λ_exp.</summary>
    public double ExplorationWeight { get; }

    /// <summary>λ_rec (online mode only).</summary>
    public double ReconstructionWeight { get; }

    /// <summary>The exploration dis-similarity.</summary>
    public ExplorationForm Exploration { get; }

    /// <summary>How the teacher's autoencoder is treated.</summary>
    public TeacherAutoencoderMode AutoencoderMode { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teacher's (or peer's) participant name.</summary>
    public string Teacher { get; }

    /// <summary>Enc_I, Enc_E, and the teacher's autoencoder when it is trained online.</summary>
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <summary>
    /// The two terms: <c>L_inh = FT_L1(inheritanceFactor, teacherFactor)</c> and <c>L_exp</c> of <paramref name="form"/>
    /// (<c>−FT_L1(explorationFactor, teacherFactor)</c> or the mean absolute cosine). See <see cref="FactorTransfer"/>.
    /// </summary>
    /// <param name="inheritanceFactor">Enc_I(F^I), <c>[B, C', H, W]</c>.</param>
    /// <param name="explorationFactor">Enc_E(F^E), same shape.</param>
    /// <param name="teacherFactor">f_t, same shape (used as given: detach it yourself).</param>
    /// <param name="form">The exploration form.</param>
    /// <exception cref="ArgumentException">Shapes, dtypes or devices differ.</exception>
    public static (Tensor Inheritance, Tensor Exploration) Terms(Tensor inheritanceFactor, Tensor explorationFactor, Tensor teacherFactor, ExplorationForm form = ExplorationForm.NegativeL1)
    {
        var inheritance = FactorTransfer.L1(inheritanceFactor, teacherFactor);
        var exploration = form switch
        {
            ExplorationForm.NegativeL1 => -FactorTransfer.L1(explorationFactor, teacherFactor),
            ExplorationForm.AbsoluteCosine => FactorTransfer.AbsoluteCosine(explorationFactor, teacherFactor),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, "Unknown exploration form."),
        };
        return (inheritance, exploration);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Feature(Student, StudentFeature).Feature(Teacher, TeacherFeature);

    /// <summary>The teacher's autoencoder in <see cref="TeacherAutoencoderMode.Frozen"/> mode (the engine keeps it in eval mode, out of autograd).</summary>
    public override IReadOnlyList<nn.Module> FrozenModules =>
        AutoencoderMode == TeacherAutoencoderMode.Frozen ? new nn.Module[] { Autoencoder } : Array.Empty<nn.Module>();

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentMap = context.Output(Student).Feature(StudentFeature, Student);
        var teacherMap = context.Output(Teacher).Feature(TeacherFeature, Teacher).detach();
        CheckMaps(studentMap, teacherMap);
        FactorCoder.CheckModule(Encoders, studentMap, "student-side encoders (Encoders)");
        FactorCoder.CheckModule(Autoencoder, teacherMap, "teacher autoencoder");

        Tensor target;
        Tensor? reconstruction = null;
        if (AutoencoderMode == TeacherAutoencoderMode.Frozen)
        {
            using var noGrad = no_grad();
            target = Autoencoder.Encode(teacherMap);
        }
        else
        {
            var factor = Autoencoder.Encode(teacherMap);
            reconstruction = FactorReconstructionLoss.Value(teacherMap, Autoencoder.Decode(factor));
            target = factor.detach();
        }

        var (inheritanceFactor, explorationFactor) = Encoders.Encode(studentMap);
        var (inheritance, exploration) = Terms(inheritanceFactor, explorationFactor, target, Exploration);
        var total = (InheritanceWeight * inheritance) + (ExplorationWeight * exploration);
        var parts = new Dictionary<string, Tensor> { [$"{Name}.inherit"] = inheritance.detach(), [$"{Name}.explore"] = exploration.detach() };
        if (reconstruction is not null)
        {
            total = total + (ReconstructionWeight * reconstruction);
            parts[$"{Name}.reconstruct"] = reconstruction.detach();
        }

        parts[Name] = total;
        return new LossResult(total, parts);
    }

    private void CheckMaps(Tensor studentMap, Tensor teacherMap)
    {
        var studentWhat = $"feature '{StudentFeature}' of '{Student}'";
        var teacherWhat = $"feature '{TeacherFeature}' of '{Teacher}'";
        FactorCoder.CheckMap(studentMap, Encoders.Channels, studentWhat);
        FactorCoder.CheckMap(teacherMap, Autoencoder.InChannels, teacherWhat);
        if (studentMap.shape[0] != teacherMap.shape[0] || studentMap.shape[2] != teacherMap.shape[2] || studentMap.shape[3] != teacherMap.shape[3])
        {
            throw new ArgumentException(
                $"The {studentWhat} {Guard.Shape(studentMap)} and the {teacherWhat} {Guard.Shape(teacherMap)} must have the same batch, height and width " +
                "(the coders keep the spatial size, and the factors are compared element by element).", studentWhat);
        }

        if (studentMap.dtype != teacherMap.dtype)
        {
            throw new ArgumentException($"The {studentWhat} is {studentMap.dtype} but the {teacherWhat} is {teacherMap.dtype}.", studentWhat);
        }

        Guard.SameDevice(studentMap, studentWhat, teacherMap, teacherWhat);
    }
}

public static partial class Loss
{
    /// <summary>
    /// IE-KD's term (Huang et al. 2021, "Revisiting Knowledge Distillation: An Inheritance and Exploration Framework",
    /// CVPR, arXiv 2107.00181): inheritance and exploration of the teacher's autoencoder factor. Reports "NAME",
    /// "NAME.inherit", "NAME.explore" (+ "NAME.reconstruct" when online).
    /// </summary>
    /// <param name="teacherAutoencoder">The teacher's autoencoder.</param>
    /// <param name="split">The student's channel split.</param>
    /// <param name="studentFeature">The student's feature name.</param>
    /// <param name="teacherFeature">The teacher's feature name; <c>null</c> uses <paramref name="studentFeature"/>.</param>
    /// <param name="inheritanceWeight">λ_inh &gt;= 0.</param>
    /// <param name="explorationWeight">λ_exp &gt;= 0.</param>
    /// <param name="exploration">The exploration dis-similarity.</param>
    /// <param name="autoencoderMode">Frozen (IE-KD) or trained online (IE-DML).</param>
    /// <param name="reconstructionWeight">λ_rec &gt;= 0 (online mode).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's (or peer's) participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static InheritanceExplorationLoss InheritanceExploration(
        FactorAutoencoder teacherAutoencoder,
        ChannelSplit split,
        string studentFeature,
        string? teacherFeature = null,
        double inheritanceWeight = 1.0,
        double explorationWeight = 1.0,
        ExplorationForm exploration = ExplorationForm.NegativeL1,
        TeacherAutoencoderMode autoencoderMode = TeacherAutoencoderMode.Frozen,
        double reconstructionWeight = 1.0,
        string student = "student",
        string teacher = "teacher",
        string name = "ie") =>
        new(teacherAutoencoder, split, studentFeature, teacherFeature, inheritanceWeight, explorationWeight, exploration, autoencoderMode,
            reconstructionWeight, student, teacher, name);
}
