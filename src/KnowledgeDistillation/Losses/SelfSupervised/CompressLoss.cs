using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// CompRess-style similarity-distribution matching (Abbasi Koohpayegani, Tejankar and Pirsiavash, "CompRess: Self-Supervised
/// Learning by Compressing Representations", NeurIPS 2020, the single-memory variant "CompRess-1q"): the teacher's and the
/// student's unit embeddings are compared with the same queue of K past teacher embeddings <c>d_j</c>,
/// <c>p_t = softmax(z_t·d / τ)</c>, <c>p_s = softmax(z_s·d / τ)</c>, and the loss is <c>(1/B) Σ_i KL(p_t ‖ p_s)</c>. Unlike
/// <see cref="SeedLoss"/> the anchors do not include the teacher's embedding of the sample itself, and one temperature is
/// used. The batch's teacher embeddings are enqueued after the step. Reports "NAME".
/// </summary>
public sealed class CompressLoss : TeacherQueueLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="feature">The student's and the teacher's embedding features (one width).</param>
    /// <param name="width">D.</param>
    /// <param name="dataSize">N, the training set's size.</param>
    /// <param name="queueSize">K &lt;= N (CompRess: 128000).</param>
    /// <param name="temperature">τ &gt; 0 (CompRess: 0.04).</param>
    /// <param name="seed">Seed of the queue's initial entries.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name (default "compress").</param>
    /// <exception cref="ArgumentOutOfRangeException">K is below 1 or above N, or τ &lt;= 0.</exception>
    public CompressLoss(FeaturePair feature, long width, long dataSize, int queueSize = 65536, double temperature = 0.04, long seed = 0, string student = "student", string teacher = "teacher", string name = "compress")
        : base(feature, width, dataSize, queueSize, seed, student, teacher, name)
    {
        Temperature = Guard.Positive(temperature, nameof(temperature));
    }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <inheritdoc />
    protected override Tensor Value(Tensor student, Tensor teacher, Tensor anchors)
    {
        var logPt = (teacher.matmul(anchors.t()) / Temperature).log_softmax(1);
        var logPs = (student.matmul(anchors.t()) / Temperature).log_softmax(1);
        return (logPt.exp() * (logPt - logPs)).sum(1).mean();
    }
}

public static partial class Loss
{
    /// <summary>
    /// Abbasi Koohpayegani et al. (2020), CompRess-1q: KL between the teacher's and the student's similarity distributions
    /// over a queue of past teacher embeddings (see <see cref="CompressLoss"/>). Reports "NAME".
    /// </summary>
    /// <param name="feature">The student's and the teacher's embedding features.</param>
    /// <param name="width">D.</param>
    /// <param name="dataSize">N.</param>
    /// <param name="queueSize">K &lt;= N.</param>
    /// <param name="temperature">τ.</param>
    /// <param name="seed">Seed of the queue.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static CompressLoss Compress(FeaturePair feature, long width, long dataSize, int queueSize = 65536, double temperature = 0.04, long seed = 0, string student = "student", string teacher = "teacher", string name = "compress") =>
        new(feature, width, dataSize, queueSize, temperature, seed, student, teacher, name);
}
