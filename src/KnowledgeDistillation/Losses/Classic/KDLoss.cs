using KnowledgeDistillation.Internal;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Hinton, Vinyals and Dean (2015), "Distilling the Knowledge in a Neural Network": the student matches
/// the teacher's temperature-softened class distribution. <c>T² · KL(p_t^T ‖ p_s^T)</c>, batch mean.
/// </summary>
public sealed class KDLoss : StudentTeacherLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits (true for a frozen teacher; methods with trainable peers decide).</param>
    /// <param name="name">Reporting name (default "kd").</param>
    public KDLoss(double temperature = 4.0, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "kd")
        : this(TemperatureSchedule.Constant(temperature), student, teacher, detachTeacher, name)
    {
    }

    /// <summary>Creates the loss with a temperature that follows the stage epoch (see <see cref="TemperatureSchedule"/>).</summary>
    /// <param name="temperature">The temperature per stage epoch.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    /// <param name="name">Reporting name (default "kd").</param>
    public KDLoss(TemperatureSchedule temperature, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "kd")
        : base(name, student, teacher, detachTeacher)
    {
        TemperatureSchedule = temperature ?? throw new ArgumentNullException(nameof(temperature));
    }

    /// <summary>The softmax temperature at stage epoch 0 (the temperature, unless <see cref="TemperatureSchedule"/> varies).</summary>
    public double Temperature => TemperatureSchedule.At(0);

    /// <summary>The temperature per stage epoch (constant unless a schedule was given).</summary>
    public TemperatureSchedule TemperatureSchedule { get; }

    /// <summary>
    /// <c>T² / B · Σ_i Σ_k p_t[i,k] (log p_t[i,k] − log p_s[i,k])</c> with <c>p = softmax(z / T)</c>; both log-probabilities come
    /// from <c>log_softmax</c>, so a zero teacher probability contributes exactly 0. Gradient w.r.t. the student logits:
    /// <c>(T / B)(p_s − p_t)</c>.
    /// </summary>
    /// <param name="studentLogits">Student logits [batch, classes].</param>
    /// <param name="teacherLogits">Teacher logits [batch, classes] (used as given: detach them yourself if needed).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <exception cref="ArgumentException">Shapes, class counts or devices differ.</exception>
    public static Tensor Value(Tensor studentLogits, Tensor teacherLogits, double temperature)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        Guard.Positive(temperature, nameof(temperature));
        Guard.MatchingLogits(studentLogits, "student logits", teacherLogits, "teacher logits");
        var logStudent = nn.functional.log_softmax(studentLogits / temperature, 1);
        var logTeacher = nn.functional.log_softmax(teacherLogits / temperature, 1);
        var batch = studentLogits.shape[0];
        var teacherProbabilities = logTeacher.exp();

        // 0 · log 0 = 0 (xlogy, as PyTorch's kl_div): a teacher logit of -inf would otherwise give 0 · (-inf) = NaN.
        var terms = (teacherProbabilities * (logTeacher - logStudent)).masked_fill(teacherProbabilities.eq(0), 0.0);
        return terms.sum() * (temperature * temperature / batch);
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        var (student, teacher) = Logits(context);
        return new LossResult(Name, Value(student, teacher, TemperatureSchedule.At(context.Epoch)));
    }
}

public static partial class Loss
{
    /// <summary>
    /// Hinton, Vinyals and Dean (2015), "Distilling the Knowledge in a Neural Network" (NIPS Deep Learning Workshop, arXiv
    /// 1503.02531): the T²-scaled KL term alone. Reports "NAME". The usual mixture with CE is <see cref="Hinton"/>.
    /// </summary>
    /// <param name="temperature">Softmax temperature T &gt; 0.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    /// <param name="name">Reporting name.</param>
    public static KDLoss KD(double temperature = 4.0, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "kd") =>
        new(temperature, student, teacher, detachTeacher, name);

    /// <summary>
    /// The KD term of <see cref="KD"/> with a temperature that changes with the stage
    /// epoch (<see cref="TemperatureSchedule.Linear"/>, <see cref="TemperatureSchedule.Cosine"/>, <see cref="TemperatureSchedule.Step"/>,
    /// <see cref="TemperatureSchedule.Custom"/>); the T² factor follows the current T. Reports "NAME".
    /// </summary>
    /// <param name="temperature">The temperature per stage epoch.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    /// <param name="name">Reporting name.</param>
    public static KDLoss ScheduledKD(TemperatureSchedule temperature, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "kd") =>
        new(temperature, student, teacher, detachTeacher, name);
}
