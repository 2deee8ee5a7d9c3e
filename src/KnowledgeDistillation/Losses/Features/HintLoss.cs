using KnowledgeDistillation.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The FitNets hint (Romero, Ballas, Kahou, Chassang, Gatta and Bengio, "FitNets: Hints for Thin Deep Nets", ICLR 2015,
/// arXiv 1412.6550; mdistiller <c>distillers/FitNet.py</c>, RepDistiller <c>distiller_zoo/FitNet.py</c>): the student's
/// guided layer, passed through a learned <see cref="HintRegressor"/>, regresses the teacher's hint layer,
/// <c>mean((r(F_s) − F_t)²)</c> over all elements. The regressor is this term's trainable module (optimised and
/// checkpointed with the stage). Without a regressor the maps are compared directly and must have the same shape.
/// The references weight it by 100 next to CE; the paper's two-stage schedule is <see cref="Recipes.FitNets"/>.
/// </summary>
public sealed class HintLoss : FeatureDistillationLoss
{
    private readonly nn.Module[] _modules;

    /// <summary>Creates the term.</summary>
    /// <param name="feature">The guided student feature and the teacher's hint feature.</param>
    /// <param name="regressor">The regressor from the student's map to the teacher's; <c>null</c> compares the maps as they are.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name (default "hint").</param>
    public HintLoss(FeaturePair feature, HintRegressor? regressor = null, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "hint")
        : base(name, new[] { feature ?? throw new ArgumentNullException(nameof(feature)) }, student, teacher, detachTeacher)
    {
        Regressor = regressor;
        _modules = regressor is null ? Array.Empty<nn.Module>() : new nn.Module[] { regressor };
    }

    /// <summary>The regressor, or <c>null</c> when the maps are compared as they are.</summary>
    public HintRegressor? Regressor { get; }

    /// <summary>The guided student feature and the teacher's hint feature.</summary>
    public FeaturePair Feature => Features[0];

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _modules;

    /// <inheritdoc />
    protected override Tensor Stage(Tensor student, Tensor teacher, string studentWhat, string teacherWhat)
    {
        Tensor regressed;
        if (Regressor is null)
        {
            regressed = student;
        }
        else
        {
            Regressor.CheckInput(student, studentWhat);
            regressed = Regressor.call(student);
        }

        if (!regressed.shape.SequenceEqual(teacher.shape))
        {
            var through = Regressor is null
                ? "without a regressor the maps must have the same shape (pass a HintRegressor to connect different channel counts or sizes)"
                : $"the regressor outputs {Guard.Shape(regressed)}";
            throw new ArgumentException($"The {studentWhat} {Guard.Shape(student)} cannot regress the {teacherWhat} {Guard.Shape(teacher)}: {through}.", studentWhat);
        }

        return nn.functional.mse_loss(regressed, teacher);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Romero et al. (2015), "FitNets: Hints for Thin Deep Nets" (ICLR, arXiv 1412.6550): the hint term
    /// <c>mean((r(F_s) − F_t)²)</c> with a learned regressor r (trained with the stage). Reports "NAME".
    /// The references' one-stage objective is <c>CE + 100 · hint</c>; the paper's two stages are <see cref="Recipes.FitNets"/>.
    /// </summary>
    /// <param name="feature">The guided student feature and the teacher's hint feature.</param>
    /// <param name="regressor">The regressor; <c>null</c> compares maps of one shape directly.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name.</param>
    public static HintLoss Hint(FeaturePair feature, HintRegressor? regressor = null, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "hint") =>
        new(feature, regressor, student, teacher, detachTeacher, name);
}

public static partial class Recipes
{
    /// <summary>
    /// Romero et al. (2015), "FitNets: Hints for Thin Deep Nets" (ICLR, arXiv 1412.6550), the paper's two stages: stage
    /// "hint" trains the student (its layers up to the guided one receive the gradient) and the regressor on the hint alone
    /// for <paramref name="hintEpochs"/> epochs; stage "distill" then trains the whole student with
    /// <see cref="Loss.Hinton"/> (the paper's KD stage). The teacher is frozen in both.
    /// </summary>
    /// <param name="feature">The guided student feature and the teacher's hint feature.</param>
    /// <param name="regressor">The regressor (trained in the hint stage only).</param>
    /// <param name="hintEpochs">Epochs of the hint stage, &gt;= 1; <c>null</c> uses the run's epoch count.</param>
    /// <param name="temperature">KD temperature T &gt; 0 of the second stage.</param>
    /// <param name="alpha">Weight of the KD term in the second stage, in [0, 1].</param>
    /// <param name="hintOptimizer">Optimiser of the hint stage; <c>null</c> uses the run's.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="hintEpochs"/> is below 1, T &lt;= 0, or α is outside [0, 1].</exception>
    public static DistillationRecipe FitNets(
        FeaturePair feature,
        HintRegressor? regressor,
        int? hintEpochs = null,
        double temperature = 4.0,
        double alpha = 0.9,
        OptimizerOptions? hintOptimizer = null,
        string student = "student",
        string teacher = "teacher")
    {
        if (hintEpochs is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(hintEpochs), hintEpochs, "hintEpochs must be >= 1 (null: the run's epoch count).");
        }

        var hint = new HintLoss(feature, regressor, student, teacher);
        return new DistillationRecipe("fitnets", new[]
        {
            new DistillationStage("hint", hint) { Epochs = hintEpochs, Optimizer = hintOptimizer },
            new DistillationStage(DistillationRecipe.SingleStage, Loss.Hinton(temperature, alpha, student, teacher)),
        });
    }
}
