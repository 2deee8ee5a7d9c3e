using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// SEED (Fang, Wang, Wang, Zhang, Yang and Liu, "SEED: Self-supervised Distillation for Visual Representation", ICLR 2021,
/// eq. 2-4): the student's unit embedding <c>z_s</c> and the frozen self-supervised teacher's <c>z_t</c> of the same image
/// are compared with the teacher's own embedding and a queue of K past teacher embeddings <c>d_j</c>:
/// <c>p_t = softmax([z_t·z_t, z_t·d_1, ...]/τ_t)</c>, <c>p_s = softmax([z_s·z_t, z_s·d_1, ...]/τ_s)</c>, and the loss is the
/// cross-entropy <c>−(1/B) Σ_i Σ_j p_t log p_s</c>. The batch's teacher embeddings are enqueued after the step. Reports
/// "NAME". Defaults are the official code's (jacobswan1/SEED <c>main.py</c>: <c>--temp 0.2</c> for the student,
/// <c>--distill-t 1e-4</c> for the teacher, <c>--queue 65536</c>): at τ_t = 1e-4 the teacher's target is nearly one-hot
/// on its own embedding, so SEED is then close to an InfoNCE of the student against the teacher's embedding (positive)
/// and the teacher queue (negatives); a larger τ_t (e.g. 0.01) passes more of the teacher's neighbourhood.
/// </summary>
public sealed class SeedLoss : TeacherQueueLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="feature">The student's and the teacher's embedding features (one width).</param>
    /// <param name="width">D, the embeddings' width.</param>
    /// <param name="dataSize">N, the training set's size.</param>
    /// <param name="queueSize">K &lt;= N (SEED: 65536).</param>
    /// <param name="studentTemperature">τ_s &gt; 0 (SEED: 0.2).</param>
    /// <param name="teacherTemperature">τ_t &gt; 0 (the official code: 1e-4).</param>
    /// <param name="seed">Seed of the queue's initial entries.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "seed").</param>
    /// <exception cref="ArgumentOutOfRangeException">K is below 1 or above N, or a temperature is not positive.</exception>
    public SeedLoss(FeaturePair feature, long width, long dataSize, int queueSize = 65536, double studentTemperature = 0.2, double teacherTemperature = 1e-4, long seed = 0, string student = "student", string teacher = "teacher", string name = "seed")
        : base(feature, width, dataSize, queueSize, seed, student, teacher, name)
    {
        StudentTemperature = Guard.Positive(studentTemperature, nameof(studentTemperature));
        TeacherTemperature = Guard.Positive(teacherTemperature, nameof(teacherTemperature));
    }

    /// <summary>τ_s.</summary>
    public double StudentTemperature { get; }

    /// <summary>τ_t.</summary>
    public double TeacherTemperature { get; }

    /// <inheritdoc />
    protected override Tensor Value(Tensor student, Tensor teacher, Tensor anchors)
    {
        var ls = cat(new[] { (student * teacher).sum(1, keepdim: true), student.matmul(anchors.t()) }, 1) / StudentTemperature;
        var lt = cat(new[] { (teacher * teacher).sum(1, keepdim: true), teacher.matmul(anchors.t()) }, 1) / TeacherTemperature;
        return -(lt.softmax(1) * ls.log_softmax(1)).sum(1).mean();
    }
}

public static partial class Loss
{
    /// <summary>
    /// Fang et al. (2021), SEED: cross-entropy between the teacher's and the student's similarity distributions over the
    /// teacher's embedding and a queue of past teacher embeddings (see <see cref="SeedLoss"/>). Reports "NAME".
    /// </summary>
    /// <param name="feature">The student's and the teacher's embedding features.</param>
    /// <param name="width">D.</param>
    /// <param name="dataSize">N.</param>
    /// <param name="queueSize">K &lt;= N.</param>
    /// <param name="studentTemperature">τ_s.</param>
    /// <param name="teacherTemperature">τ_t (the official code: 1e-4).</param>
    /// <param name="seed">Seed of the queue.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static SeedLoss Seed(FeaturePair feature, long width, long dataSize, int queueSize = 65536, double studentTemperature = 0.2, double teacherTemperature = 1e-4, long seed = 0, string student = "student", string teacher = "teacher", string name = "seed") =>
        new(feature, width, dataSize, queueSize, studentTemperature, teacherTemperature, seed, student, teacher, name);
}
