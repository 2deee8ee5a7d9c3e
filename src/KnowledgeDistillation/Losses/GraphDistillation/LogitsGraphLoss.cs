using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Zhang and Peng (IJCAI 2018), "Better and Faster: Knowledge Transfer from Multiple Self-supervised Learning Tasks via Graph
/// Distillation for Video Classification": the logits graph. Its vertices are the K teachers' temperature-softened class
/// distributions <c>p_i = softmax(a_i / T)</c>; the student's <c>p_s = softmax(a_s / T)</c> is matched to all of them jointly,
/// each weighted by its importance in the graph (<see cref="LogitsGraph"/>):
/// <c>L = Σ_i π_i · 1/B Σ_b d(p_s,b, p_i,b) − β H(w)</c>, with the distance <c>d</c> the Earth Mover's Distance by default
/// (<see cref="DistributionDistance"/>) and an optional entropy bonus β on the edge weights against collapse onto one teacher.
/// Teachers are detached. Parts: "NAME" (the total), "NAME.weight-TEACHER" (π_i, detached) and, with β &gt; 0, "NAME.edge-entropy".
/// </summary>
public sealed class LogitsGraphLoss : DistillationLoss
{
    /// <summary>Creates the term.</summary>
    /// <param name="teachers">The teachers' participant names: at least two, distinct, none the student.</param>
    /// <param name="distance">The distribution distance (default: <see cref="DistributionDistance.ZeroOneEmd"/>, the exact EMD for unordered classes).</param>
    /// <param name="temperature">The softmax temperature T &gt; 0 (default 4).</param>
    /// <param name="learnEdges">Whether the edge weights are trained (a loss module the engine optimises); false keeps them equal.</param>
    /// <param name="edgeEntropyWeight">β &gt;= 0, the weight of the edge-weight entropy bonus (default 0).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name (default "logits-graph").</param>
    /// <exception cref="ArgumentException">Fewer than two teachers, a repeated name, or the student among them.</exception>
    /// <exception cref="ArgumentOutOfRangeException">T or β out of range.</exception>
    public LogitsGraphLoss(
        IReadOnlyList<string> teachers,
        DistributionDistance? distance = null,
        double temperature = 4.0,
        bool learnEdges = true,
        double edgeEntropyWeight = 0.0,
        string student = "student",
        string name = "logits-graph")
        : base(name)
    {
        Student = Guard.Name(student, nameof(student));
        Teachers = GraphDistillationChecks.TeacherNames(teachers, Student);
        Distance = distance ?? DistributionDistance.ZeroOneEmd();
        Temperature = Guard.Positive(temperature, nameof(temperature));
        EdgeEntropyWeight = Guard.NonNegative(edgeEntropyWeight, nameof(edgeEntropyWeight));
        Graph = new LogitsGraph(Teachers.Count, learnEdges);
    }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teachers' participant names, in vertex order.</summary>
    public IReadOnlyList<string> Teachers { get; }

    /// <summary>The distribution distance.</summary>
    public DistributionDistance Distance { get; }

    /// <summary>The softmax temperature.</summary>
    public double Temperature { get; }

    /// <summary>The weight β of the edge-weight entropy bonus.</summary>
    public double EdgeEntropyWeight { get; }

    /// <summary>The graph's edge weights (a trainable module when learned).</summary>
    public LogitsGraph Graph { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements => LossRequirements.None.Logits(Teachers.Prepend(Student).ToArray());

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => Graph.Learned ? new nn.Module[] { Graph } : Array.Empty<nn.Module>();

    /// <summary>
    /// The per-teacher batch-mean distances [K]: <c>1/B Σ_b d(softmax(a_s / T), softmax(a_i / T))</c>.
    /// </summary>
    /// <param name="studentLogits">Student logits [batch, classes].</param>
    /// <param name="teacherLogits">Each teacher's logits, of the student's shape (used as given: detach them yourself).</param>
    /// <param name="distance">The distance.</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <exception cref="ArgumentException">Fewer than two teachers, or a teacher's class count, batch size or device differs from the student's.</exception>
    public static Tensor PerTeacherDistances(Tensor studentLogits, IReadOnlyList<Tensor> teacherLogits, DistributionDistance distance, double temperature)
    {
        ArgumentNullException.ThrowIfNull(distance);
        GraphDistillationChecks.TeacherLogits(studentLogits, teacherLogits);
        Guard.Positive(temperature, nameof(temperature));
        var logStudent = nn.functional.log_softmax(studentLogits / temperature, 1);
        return stack(teacherLogits.Select(t => distance.Between(logStudent, nn.functional.log_softmax(t / temperature, 1)).mean()).ToArray());
    }

    /// <summary>The joint matching <c>Σ_i π_i · PerTeacherDistances_i</c> for given vertex weights π [K].</summary>
    /// <param name="studentLogits">Student logits [batch, classes].</param>
    /// <param name="teacherLogits">Each teacher's logits, of the student's shape.</param>
    /// <param name="vertexWeights">π [K], on the logits' device and dtype.</param>
    /// <param name="distance">The distance.</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <exception cref="ArgumentException">Bad shapes, or π is not [K].</exception>
    public static Tensor Value(Tensor studentLogits, IReadOnlyList<Tensor> teacherLogits, Tensor vertexWeights, DistributionDistance distance, double temperature)
    {
        ArgumentNullException.ThrowIfNull(vertexWeights);
        var d = PerTeacherDistances(studentLogits, teacherLogits, distance, temperature);
        if (vertexWeights.dim() != 1 || vertexWeights.shape[0] != teacherLogits.Count)
        {
            throw new ArgumentException($"The vertex weights must be [K] = [{teacherLogits.Count}]; got {Guard.Shape(vertexWeights)}.", nameof(vertexWeights));
        }

        return (vertexWeights * d).sum();
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var student = context.Output(Student).RequireLogits(Student);
        var teachers = Teachers.Select(t => context.Output(t).RequireLogits(t).detach()).ToArray();
        GraphDistillationChecks.TeacherLogits(student, teachers, Teachers);
        var pi = Graph.VertexWeights().to(student.dtype);
        var total = Value(student, teachers, pi, Distance, Temperature);
        var parts = new Dictionary<string, Tensor>();
        total = EdgeWeightEntropy.SubtractBonus(total, Graph.EdgeLogits, EdgeEntropyWeight, Name, parts);

        parts[Name] = total;
        var weights = pi.detach();
        for (var k = 0; k < Teachers.Count; k++)
        {
            parts[$"{Name}.weight-{Teachers[k]}"] = weights[k];
        }

        return new LossResult(total, parts);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Graph.Dispose();
        }
    }
}

public static partial class Loss
{
    /// <summary>
    /// Zhang and Peng (IJCAI 2018, arXiv 1804.10069): the logits graph, the student's softened distribution matched jointly to
    /// every teacher's with the EMD, weighted by learned, softmax-normalised edge weights. The term alone; see
    /// <see cref="LogitsGraphLoss"/>. The method's objective is <see cref="GraphDistillation"/>.
    /// </summary>
    /// <param name="teachers">The teachers' participant names (at least two).</param>
    /// <param name="distance">The distance (default the exact EMD under the 0-1 cost).</param>
    /// <param name="temperature">The softmax temperature.</param>
    /// <param name="learnEdges">Whether the edge weights are trained.</param>
    /// <param name="edgeEntropyWeight">β &gt;= 0, the entropy bonus on the edge weights.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static LogitsGraphLoss LogitsGraph(
        IReadOnlyList<string> teachers, DistributionDistance? distance = null, double temperature = 4.0, bool learnEdges = true, double edgeEntropyWeight = 0.0, string student = "student", string name = "logits-graph") =>
        new(teachers, distance, temperature, learnEdges, edgeEntropyWeight, student, name);
}
