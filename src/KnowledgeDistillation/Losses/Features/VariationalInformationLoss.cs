using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Variational information distillation (Ahn, Hu, Damianou, Lawrence and Dai, "Variational Information Distillation for
/// Knowledge Transfer", CVPR 2019, arXiv 1904.05835; RepDistiller <c>distiller_zoo/VID.py</c>, mdistiller
/// <c>distillers/VID.py</c>): per stage, a <see cref="VidRegressor"/> predicts a Gaussian over the teacher's map from the
/// student's (learned mean, learned per-channel variance), and the term is its negative log-likelihood
/// <c>mean(½ ((μ(F_s) − F_t)² / σ² + log σ²))</c>, summed over stages. The regressors are this term's trainable modules.
/// </summary>
public sealed class VariationalInformationLoss : FeatureDistillationLoss
{
    private readonly VidRegressor[] _regressors;
    private int _stage; // the stage the base's in-order Stage calls are at (reset by Compute)

    /// <summary>Creates the term.</summary>
    /// <param name="features">The compared feature pairs (maps [B, C, H, W]), one per stage.</param>
    /// <param name="regressors">One regressor per pair, C_s → C_t of that pair.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's features.</param>
    /// <param name="name">Reporting name (default "vid").</param>
    /// <exception cref="ArgumentException">The counts differ, or a regressor is null.</exception>
    public VariationalInformationLoss(IReadOnlyList<FeaturePair> features, IReadOnlyList<VidRegressor> regressors, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "vid")
        : base(name, features, student, teacher, detachTeacher)
    {
        ArgumentNullException.ThrowIfNull(regressors);
        if (regressors.Count != features.Count || regressors.Any(r => r is null))
        {
            throw new ArgumentException($"VID needs one regressor per feature pair: {features.Count} pairs, {regressors.Count} regressors.", nameof(regressors));
        }

        _regressors = regressors.ToArray();
    }

    /// <summary>The regressors, one per stage.</summary>
    public IReadOnlyList<VidRegressor> Regressors => _regressors;

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => _regressors;

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        _stage = 0;
        return base.Compute(context);
    }

    /// <inheritdoc />
    protected override Tensor Stage(Tensor student, Tensor teacher, string studentWhat, string teacherWhat)
    {
        var regressor = _regressors[_stage++];
        RequireMap(student, studentWhat);
        RequireMap(teacher, teacherWhat);
        if (student.shape[1] != regressor.StudentChannels || teacher.shape[1] != regressor.TeacherChannels)
        {
            throw new ArgumentException(
                $"The {studentWhat} {Guard.Shape(student)} and the {teacherWhat} {Guard.Shape(teacher)} do not fit their VID regressor ({regressor.StudentChannels} -> {regressor.TeacherChannels} channels).",
                studentWhat);
        }

        return regressor.NegativeLogLikelihood(student, teacher);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Ahn et al. (2019), "Variational Information Distillation for Knowledge Transfer" (CVPR, arXiv 1904.05835): per stage,
    /// the Gaussian negative log-likelihood of the teacher's map under a learned mean and per-channel variance predicted from
    /// the student's (see <see cref="VariationalInformationLoss"/>). Reports "NAME" (and "NAME.stageK" with several stages).
    /// The references' objective is <c>CE + 1 · vid</c> over the three stage outputs.
    /// </summary>
    /// <param name="features">The compared feature pairs, one per stage.</param>
    /// <param name="regressors">One regressor per pair.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static VariationalInformationLoss VariationalInformation(IReadOnlyList<FeaturePair> features, IReadOnlyList<VidRegressor> regressors, string student = "student", string teacher = "teacher", string name = "vid") =>
        new(features, regressors, student, teacher, true, name);
}
