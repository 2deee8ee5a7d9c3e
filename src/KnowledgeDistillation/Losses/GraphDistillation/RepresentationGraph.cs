using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// The modules of Zhang and Peng's representation graph over K teachers: for every pair of teachers i &lt; j an edge carrying the
/// pairwise-fused teacher feature <c>e_ij = pool(h_i, h_j)</c> (<see cref="PairPooling"/>; no trained weights), an adaptation
/// layer <c>A_ij</c> (a linear map from the student's feature to the edge's dimension, whose output is L2-normalised like the
/// edge) and an edge weight <c>v = softmax(φ)</c> over the edges (φ starts at 0; trained when <see cref="Learned"/>).
/// </summary>
public sealed class RepresentationGraph : nn.Module
{
    private readonly ModuleList<Linear> adapters;
    private readonly ModuleList<CompactBilinearPooling> poolings;
    private readonly Parameter edge_logits;

    /// <summary>Creates the graph.</summary>
    /// <param name="teacherDimensions">Each teacher's feature dimension (at least two teachers, each &gt;= 1).</param>
    /// <param name="studentDimension">The student's feature dimension, &gt;= 1.</param>
    /// <param name="pooledDimension">The sketch dimension d_c of compact bilinear pooling (ignored by concatenation), &gt;= 1.</param>
    /// <param name="pooling">How pairs are fused.</param>
    /// <param name="learned">Whether the edge weights are trained (the adaptation layers always are).</param>
    /// <param name="seed">The seed of the sketches' hashes (edge e uses seed + e).</param>
    /// <exception cref="ArgumentException">Fewer than two teachers.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension below 1, or an unknown pooling.</exception>
    public RepresentationGraph(IReadOnlyList<int> teacherDimensions, int studentDimension, int pooledDimension = 1024, PairPooling pooling = PairPooling.CompactBilinear, bool learned = true, int seed = 0)
        : base(nameof(RepresentationGraph))
    {
        ArgumentNullException.ThrowIfNull(teacherDimensions);
        if (teacherDimensions.Count < 2)
        {
            throw new ArgumentException($"A representation graph needs at least two teachers; got {teacherDimensions.Count}.", nameof(teacherDimensions));
        }

        if (teacherDimensions.Any(d => d < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(teacherDimensions), "Every teacher feature dimension must be >= 1.");
        }

        StudentDimension = studentDimension >= 1 ? studentDimension : throw new ArgumentOutOfRangeException(nameof(studentDimension), studentDimension, "'studentDimension' must be >= 1.");
        PooledDimension = pooledDimension >= 1 ? pooledDimension : throw new ArgumentOutOfRangeException(nameof(pooledDimension), pooledDimension, "'pooledDimension' must be >= 1.");
        Pooling = Enum.IsDefined(pooling) ? pooling : throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling.");
        TeacherDimensions = teacherDimensions.ToArray();
        Learned = learned;
        var edges = new List<(int, int)>();
        for (var i = 0; i < teacherDimensions.Count; i++)
        {
            for (var j = i + 1; j < teacherDimensions.Count; j++)
            {
                edges.Add((i, j));
            }
        }

        Edges = edges;
        var dims = edges.Select(e => pooling == PairPooling.CompactBilinear ? pooledDimension : teacherDimensions[e.Item1] + teacherDimensions[e.Item2]).ToArray();
        adapters = nn.ModuleList(dims.Select(d => nn.Linear(studentDimension, d)).ToArray());
        poolings = nn.ModuleList(pooling == PairPooling.CompactBilinear
            ? edges.Select((e, k) => new CompactBilinearPooling(teacherDimensions[e.Item1], teacherDimensions[e.Item2], pooledDimension, seed + k)).ToArray()
            : Array.Empty<CompactBilinearPooling>());
        edge_logits = new Parameter(zeros(edges.Count), requires_grad: learned);
        RegisterComponents();
    }

    /// <summary>The teachers' feature dimensions.</summary>
    public IReadOnlyList<int> TeacherDimensions { get; }

    /// <summary>The student's feature dimension.</summary>
    public int StudentDimension { get; }

    /// <summary>The sketch dimension of compact bilinear pooling.</summary>
    public int PooledDimension { get; }

    /// <summary>How pairs are fused.</summary>
    public PairPooling Pooling { get; }

    /// <summary>Whether the edge weights are trained.</summary>
    public bool Learned { get; }

    /// <summary>The teacher pairs (i &lt; j) of the edges, in order.</summary>
    public IReadOnlyList<(int I, int J)> Edges { get; }

    /// <summary>The edge logits φ [edges].</summary>
    public Tensor EdgeLogits => edge_logits;

    /// <summary>The adaptation layer of edge <paramref name="edge"/>.</summary>
    /// <param name="edge">The edge's index in <see cref="Edges"/>.</param>
    public Linear Adapter(int edge) => adapters[edge];

    /// <summary>The compact bilinear pooling of edge <paramref name="edge"/> (compact bilinear pooling only).</summary>
    /// <param name="edge">The edge's index in <see cref="Edges"/>.</param>
    /// <exception cref="InvalidOperationException">The graph fuses by concatenation.</exception>
    public CompactBilinearPooling PoolingOf(int edge) =>
        Pooling == PairPooling.CompactBilinear ? poolings[edge] : throw new InvalidOperationException("This representation graph fuses by concatenation; it has no sketches.");

    /// <summary>The edge weights <c>softmax(φ)</c> [edges].</summary>
    public Tensor EdgeWeights() => nn.functional.softmax(edge_logits, 0);

    /// <summary>The entropy of the edge weights, <c>−Σ_e v_e log v_e</c> (for the optional anti-collapse regulariser).</summary>
    public Tensor EdgeEntropy() => EdgeWeightEntropy.Of(edge_logits);

    /// <summary>The fused teacher features <c>e_ij</c> [batch, edge dimension] of every edge, from each teacher's features [batch, d_i].</summary>
    /// <param name="teacherFeatures">One feature tensor per teacher (used as given: detach them yourself).</param>
    /// <exception cref="ArgumentException">The count or a dimension differs from the graph's.</exception>
    public IReadOnlyList<Tensor> EdgeTargets(IReadOnlyList<Tensor> teacherFeatures)
    {
        ArgumentNullException.ThrowIfNull(teacherFeatures);
        if (teacherFeatures.Count != TeacherDimensions.Count)
        {
            throw new ArgumentException($"The representation graph has {TeacherDimensions.Count} teachers; got {teacherFeatures.Count} features.", nameof(teacherFeatures));
        }

        for (var k = 0; k < teacherFeatures.Count; k++)
        {
            if (teacherFeatures[k].dim() != 2 || teacherFeatures[k].shape[1] != TeacherDimensions[k])
            {
                throw new ArgumentException($"Teacher {k}'s feature must have shape [batch, {TeacherDimensions[k]}]; got {Guard.Shape(teacherFeatures[k])}.", nameof(teacherFeatures));
            }
        }

        return Edges.Select((e, k) => Pooling == PairPooling.CompactBilinear
            ? poolings[k].Pool(teacherFeatures[e.I], teacherFeatures[e.J])
            : nn.functional.normalize(cat(new[] { nn.functional.normalize(teacherFeatures[e.I], 2.0, 1), nn.functional.normalize(teacherFeatures[e.J], 2.0, 1) }, 1), 2.0, 1)).ToArray();
    }

    /// <summary>The student's adapted features <c>u_ij = A_ij(h_s) / ‖A_ij(h_s)‖</c> [batch, edge dimension] of every edge.</summary>
    /// <param name="studentFeature">The student's features [batch, d_s].</param>
    /// <exception cref="ArgumentException">Not [batch, d_s].</exception>
    public IReadOnlyList<Tensor> Adapted(Tensor studentFeature)
    {
        ArgumentNullException.ThrowIfNull(studentFeature);
        if (studentFeature.dim() != 2 || studentFeature.shape[1] != StudentDimension)
        {
            throw new ArgumentException($"The student's feature must have shape [batch, {StudentDimension}]; got {Guard.Shape(studentFeature)}.", nameof(studentFeature));
        }

        return Enumerable.Range(0, Edges.Count).Select(k => nn.functional.normalize(adapters[k].call(studentFeature), 2.0, 1)).ToArray();
    }
}
