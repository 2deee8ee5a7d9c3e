using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>Yang et al. (2015), DistMult: <c>f(h, r, t) = Σ_i h_i r_i t_i</c>; all-entity scoring is one matrix product.</summary>
public sealed class DistMult : KgeModel
{
    /// <summary>Creates the model.</summary>
    /// <param name="entityCount">The number of entities.</param>
    /// <param name="relationCount">The number of relations.</param>
    /// <param name="dimension">The embedding dimension.</param>
    /// <param name="initRange">Uniform initialisation half-width; default 1 / sqrt(dimension).</param>
    public DistMult(int entityCount, int relationCount, int dimension, double? initRange = null)
        : base(nameof(DistMult), entityCount, relationCount, dimension, dimension, dimension, initRange ?? 1 / Math.Sqrt(Math.Max(1, dimension)))
    {
    }

    /// <inheritdoc />
    public override Tensor ScoreEmbeddings(Tensor h, Tensor r, Tensor t) => (h * r * t).sum(-1);

    /// <inheritdoc />
    protected override Tensor? TailQuery(Tensor h, Tensor r) => h * r;

    /// <inheritdoc />
    protected override Tensor? HeadQuery(Tensor r, Tensor t) => t * r;
}
