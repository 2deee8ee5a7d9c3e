using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>Bordes et al. (2013), TransE: <c>f(h, r, t) = margin − ‖h + r − t‖_p</c> (L1 by default).</summary>
public sealed class TransE : KgeModel
{
    /// <summary>Creates the model.</summary>
    /// <param name="entityCount">The number of entities.</param>
    /// <param name="relationCount">The number of relations.</param>
    /// <param name="dimension">The embedding dimension.</param>
    /// <param name="margin">The margin γ added to the negative distance (RotatE's convention; default 12).</param>
    /// <param name="norm">The distance norm p, 1 or 2 (default 1).</param>
    /// <param name="initRange">Uniform initialisation half-width; default (margin + 2) / dimension.</param>
    public TransE(int entityCount, int relationCount, int dimension, double margin = 12, int norm = 1, double? initRange = null)
        : base(nameof(TransE), entityCount, relationCount, dimension, dimension, dimension, initRange ?? (margin + 2) / Math.Max(1, dimension))
    {
        if (norm is not (1 or 2))
        {
            throw new ArgumentOutOfRangeException(nameof(norm), norm, "'norm' must be 1 or 2.");
        }
        Margin = margin;
        Norm = norm;
    }

    /// <summary>The margin γ.</summary>
    public double Margin { get; }

    /// <summary>The distance norm p.</summary>
    public int Norm { get; }

    /// <inheritdoc />
    public override Tensor ScoreEmbeddings(Tensor h, Tensor r, Tensor t)
    {
        var d = h + r - t;
        var distance = Norm == 1 ? d.abs().sum(-1) : d.square().sum(-1).sqrt();
        return Margin - distance;
    }

    /// <inheritdoc />
    public override Tensor ScoreAllTails(Tensor heads, Tensor relationIds) =>
        Margin - cdist(Rows(entities, heads) + Rows(relations, relationIds), entities, Norm);

    /// <inheritdoc />
    public override Tensor ScoreAllHeads(Tensor relationIds, Tensor tails) =>
        Margin - cdist(Rows(entities, tails) - Rows(relations, relationIds), entities, Norm);
}
