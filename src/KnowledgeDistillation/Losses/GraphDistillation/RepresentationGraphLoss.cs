using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// Zhang and Peng (IJCAI 2018): the representation graph. Each pair of teachers i &lt; j is an edge carrying their fused features
/// <c>e_ij = CBP(h_i, h_j)</c>; the student's feature passes through the edge's adaptation layer, <c>u_ij = A_ij(h_s)</c>, and is
/// matched to the edge over the mini-batch, <c>L = Σ_(i,j) v_ij · M({u_ij(x_b)}_b, {e_ij(x_b)}_b)</c> with <c>M</c> the squared
/// Gaussian-kernel MMD by default (<see cref="RepresentationMatching"/>) and <c>v</c> the graph's softmax-normalised edge weights
/// (<see cref="RepresentationGraph"/>). Teachers' features are detached. With an entropy bonus β &gt; 0 the term is
/// <c>Σ v_ij M_ij − β H(v)</c>: learned edge weights trained on <c>Σ v M</c> alone move all weight to the edge with the smallest
/// match (a degenerate optimum); with the bonus their optimum for fixed matches is <c>v ∝ exp(−M / β)</c>. Parts: "NAME" (the
/// total), "NAME.weight-I-J" (v_ij, detached) per edge and, with β &gt; 0, "NAME.edge-entropy".
/// </summary>
public sealed class RepresentationGraphLoss : DistillationLoss
{
    private readonly double[] _bandwidths;

    /// <summary>Creates the term.</summary>
    /// <param name="teachers">The teachers' participant names (at least two, distinct, none the student), in the graph's order.</param>
    /// <param name="graph">The graph (its teacher count must match); the loss owns and disposes it.</param>
    /// <param name="teacherFeatures">The feature each teacher provides, one name per teacher (or one name for all).</param>
    /// <param name="studentFeature">The student's feature name.</param>
    /// <param name="matching">How the student's adapted features are matched to the edges.</param>
    /// <param name="bandwidths">The MMD kernel bandwidths (default <see cref="GaussianMmd.DefaultBandwidths"/>).</param>
    /// <param name="edgeEntropyWeight">β &gt;= 0, the weight of the edge-weight entropy bonus (default 0: none).</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name (default "representation-graph").</param>
    /// <exception cref="ArgumentException">Bad teacher names, a feature name list of the wrong length, or a graph for another teacher count.</exception>
    public RepresentationGraphLoss(
        IReadOnlyList<string> teachers,
        RepresentationGraph graph,
        IReadOnlyList<string> teacherFeatures,
        string studentFeature,
        RepresentationMatching matching = RepresentationMatching.Mmd,
        IReadOnlyList<double>? bandwidths = null,
        double edgeEntropyWeight = 0.0,
        string student = "student",
        string name = "representation-graph")
        : base(name)
    {
        Student = Guard.Name(student, nameof(student));
        Teachers = GraphDistillationChecks.TeacherNames(teachers, Student);
        Graph = graph ?? throw new ArgumentNullException(nameof(graph));
        if (graph.TeacherDimensions.Count != Teachers.Count)
        {
            throw new ArgumentException($"The graph is built for {graph.TeacherDimensions.Count} teachers, but the loss has {Teachers.Count}.", nameof(graph));
        }

        ArgumentNullException.ThrowIfNull(teacherFeatures);
        TeacherFeatures = teacherFeatures.Count == 1 ? Enumerable.Repeat(Guard.Name(teacherFeatures[0], nameof(teacherFeatures)), Teachers.Count).ToArray()
            : teacherFeatures.Count == Teachers.Count ? teacherFeatures.Select(f => Guard.Name(f, nameof(teacherFeatures))).ToArray()
            : throw new ArgumentException($"Give one feature name per teacher ({Teachers.Count}) or one for all; got {teacherFeatures.Count}.", nameof(teacherFeatures));
        StudentFeature = Guard.Name(studentFeature, nameof(studentFeature));
        Matching = Enum.IsDefined(matching) ? matching : throw new ArgumentOutOfRangeException(nameof(matching), matching, "Unknown matching.");
        _bandwidths = GaussianMmd.CheckBandwidths(bandwidths ?? GaussianMmd.DefaultBandwidths);
        EdgeEntropyWeight = Guard.NonNegative(edgeEntropyWeight, nameof(edgeEntropyWeight));
    }

    /// <summary>The weight β of the edge-weight entropy bonus.</summary>
    public double EdgeEntropyWeight { get; }

    /// <summary>The student's participant name.</summary>
    public string Student { get; }

    /// <summary>The teachers' participant names, in the graph's order.</summary>
    public IReadOnlyList<string> Teachers { get; }

    /// <summary>The feature read from each teacher.</summary>
    public IReadOnlyList<string> TeacherFeatures { get; }

    /// <summary>The feature read from the student.</summary>
    public string StudentFeature { get; }

    /// <summary>How the adapted features are matched.</summary>
    public RepresentationMatching Matching { get; }

    /// <summary>The MMD kernel bandwidths.</summary>
    public IReadOnlyList<double> Bandwidths => _bandwidths;

    /// <summary>The graph (adaptation layers, sketches, edge weights).</summary>
    public RepresentationGraph Graph { get; }

    /// <inheritdoc />
    public override LossRequirements Requirements =>
        Teachers.Select((t, k) => (t, k)).Aggregate(LossRequirements.None.Feature(Student, StudentFeature), (r, p) => r.Feature(p.t, TeacherFeatures[p.k]));

    /// <inheritdoc />
    public override IReadOnlyList<nn.Module> TrainableModules => new nn.Module[] { Graph };

    /// <summary>The matching of one edge: MMD² of the two batches, or the batch-mean squared distance of paired rows.</summary>
    /// <param name="adapted">The student's adapted features [batch, d].</param>
    /// <param name="target">The edge's fused teacher features [batch, d].</param>
    /// <param name="matching">The matching.</param>
    /// <param name="bandwidths">The MMD bandwidths (default <see cref="GaussianMmd.DefaultBandwidths"/>).</param>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public static Tensor Match(Tensor adapted, Tensor target, RepresentationMatching matching, IReadOnlyList<double>? bandwidths = null)
    {
        Guard.Rank(adapted, 2, nameof(adapted), "[batch, features]");
        Guard.SameShape(target, nameof(target), adapted, nameof(adapted));
        return matching switch
        {
            RepresentationMatching.Mmd => GaussianMmd.Squared(adapted, target, bandwidths),
            RepresentationMatching.SquaredError => (adapted - target).pow(2).sum(1).mean(),
            _ => throw new ArgumentOutOfRangeException(nameof(matching), matching, "Unknown matching."),
        };
    }

    /// <inheritdoc />
    public override LossResult Compute(DistillationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var studentRaw = context.Output(Student).Feature(StudentFeature, Student);
        var batch = studentRaw.dim() > 0 ? studentRaw.shape[0] : 0;
        var h = GraphDistillationChecks.Feature(studentRaw, batch, studentRaw.device, $"the student's feature '{StudentFeature}'");
        var teacherFeatures = Teachers.Select((t, k) =>
            GraphDistillationChecks.Feature(context.Output(t).Feature(TeacherFeatures[k], t).detach(), batch, h.device, $"teacher '{t}''s feature '{TeacherFeatures[k]}'")).ToArray();
        for (var k = 0; k < Teachers.Count; k++)
        {
            if (teacherFeatures[k].shape[1] != Graph.TeacherDimensions[k])
            {
                throw new ArgumentException(
                    $"Teacher '{Teachers[k]}''s feature '{TeacherFeatures[k]}' has {teacherFeatures[k].shape[1]} values per sample {Guard.Shape(teacherFeatures[k])}; the graph expects {Graph.TeacherDimensions[k]}.", nameof(context));
            }
        }

        if (h.shape[1] != Graph.StudentDimension)
        {
            throw new ArgumentException($"The student's feature '{StudentFeature}' has {h.shape[1]} values per sample {Guard.Shape(h)}; the graph expects {Graph.StudentDimension}.", nameof(context));
        }

        IReadOnlyList<Tensor> targets;
        using (no_grad())
        {
            targets = Graph.EdgeTargets(teacherFeatures.Select(f => f.to(h.dtype)).ToArray());
        }

        var adapted = Graph.Adapted(h);
        var v = Graph.EdgeWeights().to(h.dtype);
        var matches = stack(adapted.Select((u, e) => Match(u, targets[e], Matching, _bandwidths)).ToArray());
        var total = (v * matches).sum();
        var parts = new Dictionary<string, Tensor>();
        total = EdgeWeightEntropy.SubtractBonus(total, Graph.EdgeLogits, EdgeEntropyWeight, Name, parts);

        parts[Name] = total;
        var weights = v.detach();
        for (var e = 0; e < Graph.Edges.Count; e++)
        {
            parts[$"{Name}.weight-{Teachers[Graph.Edges[e].I]}-{Teachers[Graph.Edges[e].J]}"] = weights[e];
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
    /// Zhang and Peng (IJCAI 2018, arXiv 1804.10069): the representation graph, pairs of teachers' features fused by compact
    /// bilinear pooling and matched by the student's adapted features with the Gaussian MMD, weighted by learned edge weights.
    /// The term alone; see <see cref="RepresentationGraphLoss"/>. The method's objective is <see cref="GraphDistillation"/>.
    /// </summary>
    /// <param name="teachers">The teachers' participant names (at least two).</param>
    /// <param name="teacherDimensions">Each teacher's feature dimension.</param>
    /// <param name="studentDimension">The student's feature dimension.</param>
    /// <param name="teacherFeature">The feature name every teacher provides.</param>
    /// <param name="studentFeature">The student's feature name.</param>
    /// <param name="pooledDimension">The sketch dimension d_c.</param>
    /// <param name="pooling">How pairs are fused.</param>
    /// <param name="matching">How the student is matched to the edges.</param>
    /// <param name="learnEdges">Whether the edge weights are trained.</param>
    /// <param name="edgeEntropyWeight">β &gt;= 0, the entropy bonus on the edge weights (default 0).</param>
    /// <param name="seed">The sketches' seed.</param>
    /// <param name="student">The student's participant name.</param>
    /// <param name="name">Reporting name.</param>
    public static RepresentationGraphLoss RepresentationGraph(
        IReadOnlyList<string> teachers,
        IReadOnlyList<int> teacherDimensions,
        int studentDimension,
        string teacherFeature = "embedding",
        string studentFeature = "embedding",
        int pooledDimension = 1024,
        PairPooling pooling = PairPooling.CompactBilinear,
        RepresentationMatching matching = RepresentationMatching.Mmd,
        bool learnEdges = true,
        double edgeEntropyWeight = 0.0,
        int seed = 0,
        string student = "student",
        string name = "representation-graph") =>
        new(teachers, new Losses.RepresentationGraph(teacherDimensions, studentDimension, pooledDimension, pooling, learnEdges, seed), new[] { teacherFeature }, studentFeature, matching, edgeEntropyWeight: edgeEntropyWeight, student: student, name: name);
}
