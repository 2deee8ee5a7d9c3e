using KnowledgeDistillation.Engine;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// DIST (Huang, You, Wang, Qian and Xu, "Knowledge Distillation from A Stronger Teacher", NeurIPS 2022, arXiv 2205.10536;
/// official code hunto/DIST_KD): the student matches the teacher's class-probability <em>relations</em> instead of the
/// probabilities themselves. With <c>Y = softmax(Z / τ)</c> and the Pearson correlation <c>ρ(a, b)</c>:
/// inter-class <c>1 − mean_i ρ(Y_s[i, :], Y_t[i, :])</c> (each sample's ranking of the classes) and intra-class
/// <c>1 − mean_k ρ(Y_s[:, k], Y_t[:, k])</c> (each class's ranking of the batch); <c>DIST = τ² (β · inter + γ · intra)</c>.
/// Parts: "NAME", "NAME.inter" and "NAME.intra" (the τ²-scaled relations, without β and γ).
/// </summary>
/// <remarks>
/// As in the official code, <c>ρ(a, b) = ⟨a − ā, b − b̄⟩ / (‖a − ā‖ ‖b − b̄‖ + 1e-8)</c>: a constant row or column (a batch of
/// one sample, for the intra-class relation) has correlation 0 rather than NaN. The term is invariant to adding a
/// constant to a sample's logits and, for τ = 1, it is the authors' ImageNet setting (β = γ = 1); their CIFAR-100
/// setting is β = γ = 2, τ = 4.
/// </remarks>
public sealed class DistLoss : StudentTeacherLoss
{
    /// <summary>The ε in the Pearson correlation's denominator (the official 1e-8).</summary>
    public const double CorrelationEpsilon = 1e-8;

    /// <summary>Creates the loss.</summary>
    /// <param name="beta">Weight of the inter-class relation, a finite number &gt;= 0.</param>
    /// <param name="gamma">Weight of the intra-class relation, a finite number &gt;= 0.</param>
    /// <param name="tau">Softmax temperature τ &gt; 0.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    /// <param name="name">Reporting name (default "dist").</param>
    public DistLoss(double beta = 1.0, double gamma = 1.0, double tau = 1.0, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "dist")
        : base(name, student, teacher, detachTeacher)
    {
        Beta = Guard.NonNegative(beta, nameof(beta));
        Gamma = Guard.NonNegative(gamma, nameof(gamma));
        Tau = Guard.Positive(tau, nameof(tau));
    }

    /// <summary>Weight of the inter-class relation.</summary>
    public double Beta { get; }

    /// <summary>Weight of the intra-class relation.</summary>
    public double Gamma { get; }

    /// <summary>The softmax temperature τ.</summary>
    public double Tau { get; }

    /// <summary>The τ²-scaled inter-class and intra-class relation losses.</summary>
    /// <param name="studentLogits">Student logits [batch, classes].</param>
    /// <param name="teacherLogits">Teacher logits of the same shape (used as given: detach them yourself if needed).</param>
    /// <param name="tau">τ &gt; 0.</param>
    /// <exception cref="ArgumentException">Shapes, class counts or devices differ.</exception>
    public static (Tensor Inter, Tensor Intra) Relations(Tensor studentLogits, Tensor teacherLogits, double tau)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        Guard.Positive(tau, nameof(tau));
        Guard.MatchingLogits(studentLogits, "student logits", teacherLogits, "teacher logits");
        var student = nn.functional.softmax(studentLogits / tau, 1);
        var teacher = nn.functional.softmax(teacherLogits / tau, 1);
        var scale = tau * tau;
        var inter = (1 - PearsonRows(student, teacher).mean()) * scale;
        var intra = (1 - PearsonRows(student.t(), teacher.t()).mean()) * scale;
        return (inter, intra);
    }

    /// <summary><c>β · inter + γ · intra</c>, see <see cref="Relations"/>.</summary>
    /// <param name="studentLogits">Student logits [batch, classes].</param>
    /// <param name="teacherLogits">Teacher logits of the same shape.</param>
    /// <param name="beta">Weight of the inter-class relation, &gt;= 0.</param>
    /// <param name="gamma">Weight of the intra-class relation, &gt;= 0.</param>
    /// <param name="tau">τ &gt; 0.</param>
    public static Tensor Value(Tensor studentLogits, Tensor teacherLogits, double beta, double gamma, double tau)
    {
        Guard.NonNegative(beta, nameof(beta));
        Guard.NonNegative(gamma, nameof(gamma));
        var (inter, intra) = Relations(studentLogits, teacherLogits, tau);
        return (beta * inter) + (gamma * intra);
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        var (student, teacher) = Logits(context);
        var (inter, intra) = Relations(student, teacher, Tau);
        var total = (Beta * inter) + (Gamma * intra);
        return new LossResult(total, new Dictionary<string, Tensor> { [Name] = total, [$"{Name}.inter"] = inter.detach(), [$"{Name}.intra"] = intra.detach() });
    }

    /// <summary>The Pearson correlation of each row of <paramref name="a"/> with the same row of <paramref name="b"/>.</summary>
    private static Tensor PearsonRows(Tensor a, Tensor b)
    {
        var x = a - a.mean(new long[] { 1 }, keepdim: true);
        var y = b - b.mean(new long[] { 1 }, keepdim: true);
        return (x * y).sum(1) / ((x.norm(1) * y.norm(1)) + CorrelationEpsilon);
    }
}

public static partial class Loss
{
    /// <summary>
    /// Huang et al. (2022), "Knowledge Distillation from A Stronger Teacher" (NeurIPS, arXiv 2205.10536): the DIST term,
    /// <c>τ² (β · inter-class + γ · intra-class)</c> Pearson relation losses. Reports "NAME", "NAME.inter", "NAME.intra".
    /// The paper's objective adds cross-entropy: <c>Loss.CrossEntropy() + Loss.Dist(...)</c>, or <see cref="Recipes.Dist"/>.
    /// </summary>
    /// <param name="beta">Weight of the inter-class relation, &gt;= 0.</param>
    /// <param name="gamma">Weight of the intra-class relation, &gt;= 0.</param>
    /// <param name="tau">Softmax temperature τ &gt; 0.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    /// <param name="detachTeacher">Whether no gradient flows into the teacher's logits.</param>
    /// <param name="name">Reporting name.</param>
    public static DistLoss Dist(double beta = 1.0, double gamma = 1.0, double tau = 1.0, string student = "student", string teacher = "teacher", bool detachTeacher = true, string name = "dist") =>
        new(beta, gamma, tau, student, teacher, detachTeacher, name);
}

public static partial class Recipes
{
    /// <summary>
    /// Huang et al. (2022), "Knowledge Distillation from A Stronger Teacher" (NeurIPS, arXiv 2205.10536): one stage of
    /// <c>CE + DIST(β, γ, τ)</c> with a frozen teacher. Defaults are the authors' CIFAR-100 setting (β = γ = 2, τ = 4);
    /// their ImageNet setting is β = γ = τ = 1.
    /// </summary>
    /// <param name="beta">Weight of the inter-class relation, &gt;= 0.</param>
    /// <param name="gamma">Weight of the intra-class relation, &gt;= 0.</param>
    /// <param name="tau">Softmax temperature τ &gt; 0.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="teacher">The teacher's participant name.</param>
    public static DistillationRecipe Dist(double beta = 2.0, double gamma = 2.0, double tau = 4.0, string student = "student", string teacher = "teacher") =>
        DistillationRecipe.FromLoss("dist", new CrossEntropyLoss(student) + new DistLoss(beta, gamma, tau, student, teacher));
}
