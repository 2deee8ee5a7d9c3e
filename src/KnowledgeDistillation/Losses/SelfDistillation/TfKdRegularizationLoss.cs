using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Internal;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The virtual-teacher term of Yuan et al. (CVPR 2020), "Revisiting Knowledge Distillation via Label Smoothing
/// Regularization", Tf-KD_reg: the student distils from a hand-made virtual teacher that puts probability a on the true
/// class and (1 − a)/(K − 1) on every other: <c>multiplier · KL-term</c> (see <see cref="TfKdRegularizationForm"/>). The
/// paper's objective <c>(1 − α) CE(z, y) + α · this</c> is <see cref="Loss.TfKdReg"/> (or <see cref="Recipes.TfKdReg"/>).
/// Defaults follow the official code's ResNet18/CIFAR-100 setting (a = 0.99, T = 20) with multiplier 1.
/// </summary>
public sealed class TfKdRegularizationLoss : DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="correctProbability">The virtual teacher's probability a of the true class, in (0, 1).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="form">The official code's form (default) or the paper's.</param>
    /// <param name="multiplier">Extra finite scale &gt;= 0 of the term (the official configs use 1, 50 or 100 with K = 100).
    /// It comes after <paramref name="form"/> so that a v1 positional call <c>(a, T, α)</c> fails to compile instead of
    /// silently reading α as the multiplier.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name (default "tfkd-reg").</param>
    public TfKdRegularizationLoss(
        double correctProbability = 0.99,
        double temperature = 20.0,
        TfKdRegularizationForm form = TfKdRegularizationForm.OfficialCode,
        double multiplier = 1.0,
        string student = "student",
        string name = "tfkd-reg")
        : base(name)
    {
        CorrectProbability = CheckProbability(correctProbability);
        Temperature = Guard.Positive(temperature, nameof(temperature));
        Multiplier = Guard.NonNegative(multiplier, nameof(multiplier));
        Form = Enum.IsDefined(form) ? form : throw new ArgumentOutOfRangeException(nameof(form), form, "Unknown Tf-KD_reg form.");
        Student = Guard.Name(student, nameof(student));
    }

    /// <summary>The virtual teacher's probability of the true class.</summary>
    public double CorrectProbability { get; }

    /// <summary>The temperature.</summary>
    public double Temperature { get; }

    /// <summary>The extra scale of the virtual-teacher term.</summary>
    public double Multiplier { get; }

    /// <summary>The form of the virtual-teacher term.</summary>
    public TfKdRegularizationForm Form { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The virtual teacher <c>p^d[i, k] = a if k == y_i else (1 − a)/(K − 1)</c>, rows summing to 1.</summary>
    /// <param name="targets">Labels, int64 [B] in [0, K).</param>
    /// <param name="classes">K &gt;= 2.</param>
    /// <param name="correctProbability">a in (0, 1).</param>
    /// <param name="dtype">Element type of the result (default float32).</param>
    public static Tensor VirtualTeacher(Tensor targets, long classes, double correctProbability, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(targets);
        CheckProbability(correctProbability);
        if (classes < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "'classes' must be >= 2 (K >= 2).");
        }

        if (targets.dim() != 1 || targets.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"'targets' must be int64 class indices [batch]; got {targets.dtype} {Guard.Shape(targets)}.", nameof(targets));
        }

        if (targets.device_type == DeviceType.CPU && targets.numel() > 0 && (targets.min().item<long>() < 0 || targets.max().item<long>() >= classes))
        {
            throw new ArgumentException($"'targets' must be in [0, {classes - 1}] for {classes} classes.", nameof(targets));
        }

        var other = (1 - correctProbability) / (classes - 1);
        return full(new[] { targets.shape[0], classes }, other, dtype, targets.device)
            .scatter_(1, targets.unsqueeze(1), full(new[] { targets.shape[0], 1L }, correctProbability, dtype, targets.device));
    }

    /// <summary>
    /// The virtual-teacher term without α or the multiplier. <see cref="TfKdRegularizationForm.OfficialCode"/>:
    /// <c>1/(B·K) Σ q (log q − log_softmax(z))</c>, <c>q = softmax(p^d / T)</c>; gradient <c>(softmax(z) − q)/(B·K)</c>.
    /// <see cref="TfKdRegularizationForm.Paper"/>: <c>1/B Σ p^d_T (log p^d_T − log_softmax(z/T))</c>; gradient <c>(softmax(z/T) − p^d_T)/(B·T)</c>.
    /// </summary>
    /// <param name="studentLogits">Student logits [B, K], K &gt;= 2.</param>
    /// <param name="targets">Labels, int64 [B].</param>
    /// <param name="correctProbability">a in (0, 1).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="form">Which form.</param>
    public static Tensor Regularizer(Tensor studentLogits, Tensor targets, double correctProbability, double temperature, TfKdRegularizationForm form = TfKdRegularizationForm.OfficialCode)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        Guard.Logits(studentLogits, nameof(studentLogits));
        Guard.Positive(temperature, nameof(temperature));
        var (batch, classes) = (studentLogits.shape[0], studentLogits.shape[1]);
        if (classes < 2)
        {
            throw new ArgumentException($"'studentLogits' must have at least 2 classes (K >= 2); got {Guard.Shape(studentLogits)}.", nameof(studentLogits));
        }

        Guard.Labels(targets, studentLogits, nameof(targets));
        var virtualTeacher = VirtualTeacher(targets, classes, correctProbability, studentLogits.dtype);
        if (form == TfKdRegularizationForm.OfficialCode)
        {
            var logQ = nn.functional.log_softmax(virtualTeacher / temperature, 1);
            var logP = nn.functional.log_softmax(studentLogits, 1);
            return (logQ.exp() * (logQ - logP)).sum() / (batch * classes);
        }

        var logTarget = nn.functional.log_softmax(virtualTeacher.log() / temperature, 1);
        var logStudent = nn.functional.log_softmax(studentLogits / temperature, 1);
        return (logTarget.exp() * (logTarget - logStudent)).sum() / batch;
    }

    /// <summary>The paper's whole objective (the reference <see cref="Loss.TfKdReg"/> reproduces): <c>(1 − α) CE(z, y) + α · multiplier · Regularizer(z, y, a, T, form)</c>.</summary>
    /// <param name="studentLogits">Student logits [B, K].</param>
    /// <param name="targets">Labels, int64 [B].</param>
    /// <param name="correctProbability">a in (0, 1).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="alpha">Weight in [0, 1].</param>
    /// <param name="multiplier">Scale &gt;= 0 of the virtual-teacher term.</param>
    /// <param name="form">Which form.</param>
    public static Tensor Value(
        Tensor studentLogits, Tensor targets, double correctProbability = 0.99, double temperature = 20.0, double alpha = 0.1, double multiplier = 1.0,
        TfKdRegularizationForm form = TfKdRegularizationForm.OfficialCode)
    {
        Guard.InRange(alpha, 0, 1, nameof(alpha));
        Guard.NonNegative(multiplier, nameof(multiplier));
        var regularizer = Regularizer(studentLogits, targets, correctProbability, temperature, form);
        return ((1 - alpha) * CrossEntropyLoss.Value(studentLogits, targets)) + (alpha * multiplier * regularizer);
    }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Logits(Student).Targets();

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var logits = context.Output(Student).RequireLogits(Student);
        var targets = context.Batch.RequireTargets();
        return new LossResult(Name, Multiplier * Regularizer(logits, targets, CorrectProbability, Temperature, Form));
    }

    private static double CheckProbability(double a) =>
        a > 0 && a < 1 ? a : throw new ArgumentOutOfRangeException("correctProbability", a, "'correctProbability' (the virtual teacher's a) must be in (0, 1).");
}

public static partial class Loss
{
    /// <summary>
    /// Tf-KD_reg's term (Yuan et al. 2020, "Revisiting Knowledge Distillation via Label Smoothing Regularization", CVPR):
    /// KD from a hand-made virtual teacher, times <paramref name="multiplier"/>. Reports "NAME".
    /// </summary>
    /// <param name="correctProbability">The virtual teacher's probability a of the true class, in (0, 1).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="multiplier">Extra finite scale &gt;= 0 of the term.</param>
    /// <param name="form">The official code's form (default) or the paper's.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static TfKdRegularizationLoss VirtualTeacherKD(
        double correctProbability = 0.99,
        double temperature = 20.0,
        TfKdRegularizationForm form = TfKdRegularizationForm.OfficialCode,
        double multiplier = 1.0,
        string student = "student",
        string name = "tfkd-reg") =>
        new(correctProbability, temperature, form, multiplier, student, name);

    /// <summary>
    /// Tf-KD_reg's objective (Yuan et al. 2020, "Revisiting Knowledge Distillation via Label Smoothing Regularization",
    /// CVPR): <c>(1 − α) CE(z, y) + α · <see cref="VirtualTeacherKD"/></c>; defaults are the official code's
    /// ResNet18/CIFAR-100 setting (a = 0.99, T = 20, α = 0.1, multiplier 1). Parts "ce" and "tfkd-reg".
    /// </summary>
    /// <param name="correctProbability">The virtual teacher's probability a of the true class, in (0, 1).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="alpha">Weight of the virtual-teacher term in [0, 1]; CE gets 1 − alpha.</param>
    /// <param name="multiplier">Extra finite scale &gt;= 0 of the virtual-teacher term.</param>
    /// <param name="form">The official code's form (default) or the paper's.</param>
    /// <param name="student">The student's participant name.</param>
    public static DistillationLoss TfKdReg(
        double correctProbability = 0.99,
        double temperature = 20.0,
        double alpha = 0.1,
        double multiplier = 1.0,
        TfKdRegularizationForm form = TfKdRegularizationForm.OfficialCode,
        string student = "student")
    {
        Guard.InRange(alpha, 0, 1, nameof(alpha));
        return (1 - alpha) * new CrossEntropyLoss(student) + alpha * new TfKdRegularizationLoss(correctProbability, temperature, form, multiplier, student);
    }
}

public static partial class Recipes
{
    /// <summary>
    /// Tf-KD_reg (Yuan et al. 2020, "Revisiting Knowledge Distillation via Label Smoothing Regularization", CVPR): one
    /// stage of <see cref="Loss.TfKdReg"/>; the only participant is the student.
    /// </summary>
    /// <param name="correctProbability">The virtual teacher's probability a of the true class, in (0, 1).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="alpha">Weight of the virtual-teacher term in [0, 1].</param>
    /// <param name="multiplier">Extra finite scale &gt;= 0 of the virtual-teacher term.</param>
    /// <param name="form">The official code's form (default) or the paper's.</param>
    /// <param name="student">The student's participant name.</param>
    public static DistillationRecipe TfKdReg(
        double correctProbability = 0.99,
        double temperature = 20.0,
        double alpha = 0.1,
        double multiplier = 1.0,
        TfKdRegularizationForm form = TfKdRegularizationForm.OfficialCode,
        string student = "student") =>
        DistillationRecipe.FromLoss("tfkd-reg", Loss.TfKdReg(correctProbability, temperature, alpha, multiplier, form, student));

    /// <summary>
    /// Tf-KD_self (Yuan et al. 2020, "Revisiting Knowledge Distillation via Label Smoothing Regularization", CVPR): the
    /// student learns from a pre-trained copy of itself as a frozen teacher, with Hinton's objective
    /// (<see cref="Loss.Hinton"/>: <c>(1 − α) CE + α T² KL</c>). Train the teacher copy first (e.g. with a
    /// <see cref="Loss.CrossEntropy"/> recipe), then run this with it as the teacher participant.
    /// </summary>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="alpha">Weight of the distillation term, in [0, 1].</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The pre-trained self-teacher's participant name.</param>
    public static DistillationRecipe TfKdSelf(double temperature = 4.0, double alpha = 0.9, string student = "student", string teacher = "teacher") =>
        DistillationRecipe.FromLoss("tfkd-self", Loss.Hinton(temperature, alpha, student, teacher));
}
