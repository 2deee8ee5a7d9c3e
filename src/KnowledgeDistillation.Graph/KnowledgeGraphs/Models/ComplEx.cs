using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Trouillon et al. (2016), ComplEx: <c>f(h, r, t) = Re⟨h, r, conj(t)⟩</c> with complex embeddings stored as rows [Re; Im].
/// All-entity scoring is one matrix product.
/// </summary>
public sealed class ComplEx : KgeModel
{
    /// <summary>Creates the model.</summary>
    /// <param name="entityCount">The number of entities.</param>
    /// <param name="relationCount">The number of relations.</param>
    /// <param name="dimension">The complex dimension (each row stores 2 x dimension reals).</param>
    /// <param name="initRange">Uniform initialisation half-width; default 1 / sqrt(dimension).</param>
    public ComplEx(int entityCount, int relationCount, int dimension, double? initRange = null)
        : base(nameof(ComplEx), entityCount, relationCount, dimension, 2 * dimension, 2 * dimension, initRange ?? 1 / Math.Sqrt(Math.Max(1, dimension)))
    {
    }

    /// <inheritdoc />
    public override Tensor ScoreEmbeddings(Tensor h, Tensor r, Tensor t)
    {
        var (hRe, hIm) = Split(h);
        var (rRe, rIm) = Split(r);
        var (tRe, tIm) = Split(t);
        return (hRe * rRe * tRe + hIm * rRe * tIm + hRe * rIm * tIm - hIm * rIm * tRe).sum(-1);
    }

    /// <inheritdoc />
    protected override Tensor? TailQuery(Tensor h, Tensor r)
    {
        var (hRe, hIm) = Split(h);
        var (rRe, rIm) = Split(r);
        return cat(new[] { hRe * rRe - hIm * rIm, hRe * rIm + hIm * rRe }, -1);
    }

    /// <inheritdoc />
    protected override Tensor? HeadQuery(Tensor r, Tensor t)
    {
        var (rRe, rIm) = Split(r);
        var (tRe, tIm) = Split(t);
        return cat(new[] { rRe * tRe + rIm * tIm, rRe * tIm - rIm * tRe }, -1);
    }

    private static (Tensor Re, Tensor Im) Split(Tensor x)
    {
        var half = x.shape[^1] / 2;
        return (x.narrow(-1, 0, half), x.narrow(-1, half, half));
    }
}
