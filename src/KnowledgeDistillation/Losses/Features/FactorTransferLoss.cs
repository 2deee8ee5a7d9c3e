using KnowledgeDistillation.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Factor Transfer (Kim, Park and Kwak, "Paraphrasing Complex Network: Network Compression via Factor Transfer",
/// NeurIPS 2018, arXiv 1802.04977; RepDistiller <c>distiller_zoo/FT.py</c>, <c>models/util.py</c>): a paraphraser
/// (<see cref="FactorAutoencoder"/>, trained beforehand to reconstruct the teacher's map, then frozen) extracts the
/// teacher's factor <c>P(F_t)</c>; a translator (<see cref="FactorCoder"/>, this term's trainable module) maps the
/// student's map to a factor <c>T(F_s)</c> of the same channels; the loss is the p-distance between the normalised
/// factors (<see cref="FactorTransferForm"/>; the paper and RepDistiller use p = 1). Factors of different spatial sizes
/// are pooled to the smaller one first (RepDistiller). The paper's two stages are <see cref="Recipes.FactorTransfer"/>.
/// </summary>
/// <remarks>
/// The paraphraser and translator reuse IE-KD's coder (three 3×3 convolutions with BN and LeakyReLU(0.1), plus a leading
/// LeakyReLU and bias-free convolutions). RepDistiller's paraphraser has no BN, convolutions with bias, and a transposed-
/// convolution decoder (a stride-1, padding-1 3×3 transposed convolution spans the same maps as a convolution); its
/// translator has BN. The factor has <c>rate · C_t</c> channels (RepDistiller: k = 0.5).
/// </remarks>
public sealed class FactorTransferLoss : FeatureDistillationLoss
{
    private readonly nn.Module[] _trainable;
    private readonly nn.Module[] _frozen;

    /// <summary>Creates the term.</summary>
    /// <param name="feature">The student's map and the teacher's map (RepDistiller: the last stage's output, <c>feat[-2]</c>).</param>
    /// <param name="paraphraser">The teacher's paraphraser (C_t → C'), trained beforehand; kept frozen (eval mode, no gradient) here.</param>
    /// <param name="translator">The student's translator (C_s → C'); this term's trainable module.</param>
    /// <param name="form">Which factor is compared (the paper's flattened factor, or RepDistiller's attention map of it).</param>
    /// <param name="p">1 (L1, the paper and RepDistiller) or 2 (squared L2).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "ft").</param>
    /// <exception cref="ArgumentException">The translator's output channels differ from the paraphraser's factor channels.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not 1 or 2, or the form is unknown.</exception>
    public FactorTransferLoss(
        FeaturePair feature,
        FactorAutoencoder paraphraser,
        FactorCoder translator,
        FactorTransferForm form = FactorTransferForm.Flattened,
        int p = 1,
        string student = "student",
        string teacher = "teacher",
        string name = "ft")
        : base(name, new[] { feature ?? throw new ArgumentNullException(nameof(feature)) }, student, teacher, detachTeacher: true)
    {
        Paraphraser = paraphraser ?? throw new ArgumentNullException(nameof(paraphraser));
        Translator = translator ?? throw new ArgumentNullException(nameof(translator));
        if (translator.OutChannels != paraphraser.FactorChannels)
        {
            throw new ArgumentException(
                $"The translator outputs {translator.OutChannels} channels but the paraphraser's factor has {paraphraser.FactorChannels}; they must match.", nameof(translator));
        }

        Form = Enum.IsDefined(form) ? form : throw new ArgumentOutOfRangeException(nameof(form), form, "Unknown factor transfer form.");
        P = p is 1 or 2 ? p : throw new ArgumentOutOfRangeException(nameof(p), p, "p must be 1 (L1) or 2 (squared L2).");
        _trainable = new nn.Module[] { translator };
        _frozen = new nn.Module[] { paraphraser };
    }

    /// <summary>The teacher's paraphraser (frozen).</summary>
    public FactorAutoencoder Paraphraser { get; }

    /// <summary>The student's translator (trained with the stage).</summary>
    public FactorCoder Translator { get; }

    /// <summary>Which factor is compared.</summary>
    public FactorTransferForm Form { get; }

    /// <summary>The norm's p: 1 or 2.</summary>
    public int P { get; }

    /// <summary>The student's map and the teacher's map.</summary>
    public FeaturePair Feature => Features[0];

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _trainable;

    /// <summary>The paraphraser (the engine keeps it in eval mode, out of autograd).</summary>
    public override IReadOnlyList<nn.Module> FrozenModules => _frozen;

    /// <summary>
    /// The distance between a student factor and a teacher factor (after pooling the larger to the smaller's size).
    /// </summary>
    /// <param name="studentFactor">The translator's output <c>[B, C', H, W]</c>.</param>
    /// <param name="teacherFactor">The paraphraser's factor <c>[B, C', H', W']</c> (used as given: detach it yourself if needed).</param>
    /// <param name="form">Which factor is compared.</param>
    /// <param name="p">1 or 2.</param>
    /// <exception cref="ArgumentException">The factors are not rank 4, or differ in batch size, channels, dtype or device.</exception>
    public static Tensor Distance(Tensor studentFactor, Tensor teacherFactor, FactorTransferForm form = FactorTransferForm.Flattened, int p = 1)
    {
        CheckPair(studentFactor, nameof(studentFactor), teacherFactor, nameof(teacherFactor));
        RequireMap(studentFactor, nameof(studentFactor));
        RequireMap(teacherFactor, nameof(teacherFactor));
        var (s, t) = MatchSpatialSize(studentFactor, teacherFactor);
        return form == FactorTransferForm.SpatialAttention ? FactorTransfer.SpatialDistance(s, t, p) : FactorTransfer.Distance(s, t, p);
    }

    /// <inheritdoc />
    protected override Tensor Stage(Tensor student, Tensor teacher, string studentWhat, string teacherWhat)
    {
        RequireMap(student, studentWhat);
        RequireMap(teacher, teacherWhat);
        if (student.shape[1] != Translator.InChannels)
        {
            throw new ArgumentException(
                $"The {studentWhat} has {student.shape[1]} channels but the translator expects {Translator.InChannels} ({Guard.Shape(student)}).", studentWhat);
        }

        if (teacher.shape[1] != Paraphraser.InChannels)
        {
            throw new ArgumentException(
                $"The {teacherWhat} has {teacher.shape[1]} channels but the paraphraser expects {Paraphraser.InChannels} ({Guard.Shape(teacher)}).", teacherWhat);
        }

        FactorCoder.CheckModule(Translator, student, "translator");
        FactorCoder.CheckModule(Paraphraser, teacher, "paraphraser");
        Tensor teacherFactor;
        using (no_grad())
        {
            teacherFactor = Paraphraser.Encode(teacher);
        }

        return Distance(Translator.call(student), teacherFactor, Form, P);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Kim, Park and Kwak (2018), "Paraphrasing Complex Network: Network Compression via Factor Transfer" (NeurIPS, arXiv
    /// 1802.04977): the FT term between the student's translated factor and the frozen paraphraser's teacher factor.
    /// Reports "NAME". RepDistiller's objective is <c>CE + 200 · FT</c> after the paraphraser stage; both stages are
    /// <see cref="Recipes.FactorTransfer"/>.
    /// </summary>
    /// <param name="feature">The student's map and the teacher's map.</param>
    /// <param name="paraphraser">The teacher's paraphraser (trained beforehand, e.g. by <see cref="FactorReconstruction"/>).</param>
    /// <param name="translator">The student's translator (trainable).</param>
    /// <param name="form">The paper's flattened factor (default) or RepDistiller's attention map of it.</param>
    /// <param name="p">1 (default) or 2.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static FactorTransferLoss FactorTransfer(
        FeaturePair feature,
        FactorAutoencoder paraphraser,
        FactorCoder translator,
        FactorTransferForm form = FactorTransferForm.Flattened,
        int p = 1,
        string student = "student",
        string teacher = "teacher",
        string name = "ft") =>
        new(feature, paraphraser, translator, form, p, student, teacher, name);
}

public static partial class Recipes
{
    /// <summary>
    /// Factor Transfer's two stages (Kim et al. 2018; RepDistiller's <c>--distill factor</c>): stage "paraphraser" trains
    /// <paramref name="paraphraser"/> to reconstruct the frozen teacher's map (<see cref="Loss.FactorReconstruction"/>,
    /// mean squared error by default as RepDistiller; only the teacher runs, only the paraphraser learns); stage
    /// "distill" trains the student and the translator on <c>CE + weight · FT</c> against the now frozen paraphraser.
    /// </summary>
    /// <param name="feature">The student's map and the teacher's map (RepDistiller: the last stage outputs).</param>
    /// <param name="paraphraser">The teacher's paraphraser (owned by the caller), e.g. <c>new FactorAutoencoder(C_t, C_t / 2)</c>.</param>
    /// <param name="translator">The student's translator (owned by the caller), e.g. <c>new FactorCoder(C_s, C_t / 2)</c>.</param>
    /// <param name="paraphraserEpochs">Epochs of the paraphraser stage, &gt;= 1 (RepDistiller: 30), or <c>null</c> for the run's.</param>
    /// <param name="weight">β &gt;= 0 of the FT term (RepDistiller: 200).</param>
    /// <param name="form">Which factor is compared.</param>
    /// <param name="p">1 (default) or 2.</param>
    /// <param name="reconstructionNorm">1 (L1) or 2 (mean squared error, RepDistiller; the default).</param>
    /// <param name="paraphraserOptimizer">The paraphraser stage's optimiser, or <c>null</c> for the run's (RepDistiller: SGD, lr 0.01 for CIFAR ResNets).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The frozen teacher's participant name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="paraphraserEpochs"/> is below 1 or the weight is negative.</exception>
    public static DistillationRecipe FactorTransfer(
        FeaturePair feature,
        FactorAutoencoder paraphraser,
        FactorCoder translator,
        int? paraphraserEpochs = null,
        double weight = 200.0,
        FactorTransferForm form = FactorTransferForm.Flattened,
        int p = 1,
        int reconstructionNorm = 2,
        OptimizerOptions? paraphraserOptimizer = null,
        string student = "student",
        string teacher = "teacher")
    {
        if (paraphraserEpochs is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(paraphraserEpochs), paraphraserEpochs, "paraphraserEpochs must be >= 1 (null: the run's epoch count).");
        }

        Guard.NonNegative(weight, nameof(weight));
        var ft = new FactorTransferLoss(feature, paraphraser, translator, form, p, student, teacher);
        return new DistillationRecipe("ft", new[]
        {
            new DistillationStage("paraphraser", new FactorReconstructionLoss(paraphraser, ft.Feature.Teacher, teacher, norm: reconstructionNorm))
            {
                Epochs = paraphraserEpochs, Active = new[] { teacher }, Trainable = Array.Empty<string>(), Optimizer = paraphraserOptimizer,
            },
            new DistillationStage(DistillationRecipe.SingleStage, new CrossEntropyLoss(student) + weight * ft),
        });
    }
}
