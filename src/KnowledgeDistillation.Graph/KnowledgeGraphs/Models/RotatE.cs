using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>
/// Sun et al. (2019), RotatE: relations are rotations in the complex plane,
/// <c>f(h, r, t) = margin − Σ_i |h_i · e^{iθ_{r,i}} − t_i|</c>. Entities are rows [Re; Im]; relation rows are phases θ,
/// initialised uniformly in [−π, π].
/// </summary>
public sealed class RotatE : KgeModel
{
    /// <summary>Creates the model.</summary>
    /// <param name="entityCount">The number of entities.</param>
    /// <param name="relationCount">The number of relations.</param>
    /// <param name="dimension">The complex dimension (entity rows store 2 x dimension reals, relation rows dimension phases).</param>
    /// <param name="margin">The margin γ (default 12).</param>
    /// <param name="initRange">Entity initialisation half-width; default (margin + 2) / dimension.</param>
    public RotatE(int entityCount, int relationCount, int dimension, double margin = 12, double? initRange = null)
        : base(nameof(RotatE), entityCount, relationCount, dimension, 2 * dimension, dimension, initRange ?? (margin + 2) / Math.Max(1, dimension))
    {
        Margin = margin;
        using (no_grad())
        {
            relations.uniform_(-Math.PI, Math.PI);
        }
    }

    /// <summary>The margin γ.</summary>
    public double Margin { get; }

    /// <inheritdoc />
    public override Tensor ScoreEmbeddings(Tensor h, Tensor r, Tensor t)
    {
        var half = h.shape[^1] / 2;
        var (hRe, hIm) = (h.narrow(-1, 0, half), h.narrow(-1, half, half));
        var (tRe, tIm) = (t.narrow(-1, 0, half), t.narrow(-1, half, half));
        var (cos, sin) = (r.cos(), r.sin());
        var re = hRe * cos - hIm * sin - tRe;
        var im = hRe * sin + hIm * cos - tIm;
        return Margin - linalg.vector_norm(stack(new[] { re, im }, -1), 2, new long[] { -1 }).sum(-1);
    }
}
