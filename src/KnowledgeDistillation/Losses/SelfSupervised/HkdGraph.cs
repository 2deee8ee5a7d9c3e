using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// HKD's attributed instance graph over a batch (Zhou et al., ICCV 2021; wyc-ruiker/HKD <c>distiller_zoo/GNN.py</c>,
/// <c>knn_graph</c>): the distance between samples i and j is <c>1 − cos(softmax(l_i), softmax(l_j))</c> on detached
/// logits; every node takes the k nodes of smallest distance, itself included (its own distance is forced to −1), and
/// receives one unweighted edge from each. Every in-degree is k, so DGL's symmetric in-degree normalisation of a one-hop
/// TAGConv reduces to the mean over the k neighbours: the returned matrix Â has <c>Â[i, j] = 1/k</c> for each neighbour j
/// of i and 0 elsewhere, so that <c>Â e</c> aggregates every node's neighbourhood densely.
/// </summary>
public static class HkdGraph
{
    /// <summary>The normalised adjacency Â [B, B] of the batch's kNN graph (no gradient).</summary>
    /// <param name="logits">The participant's logits [B, C].</param>
    /// <param name="neighbours">k in [1, B], neighbours per node including itself (the official code: 8).</param>
    /// <returns>Â, in the logits' dtype and device.</returns>
    /// <exception cref="ArgumentException">The logits are not floating-point [B, C].</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is outside [1, B].</exception>
    public static Tensor Adjacency(Tensor logits, int neighbours)
    {
        Guard.Rank(logits, 2, nameof(logits), "[batch, classes]");
        Guard.FloatingPoint(logits, nameof(logits));
        var batch = logits.shape[0];
        if (neighbours < 1 || neighbours > batch)
        {
            throw new ArgumentOutOfRangeException(nameof(neighbours), neighbours, $"Each of the {batch} nodes takes k neighbours (itself included), so k must be in [1, {batch}].");
        }

        using var noGrad = no_grad();
        var p = logits.detach().softmax(1);
        var norms = p.pow(2).sum(1, keepdim: true).sqrt();
        var distance = 1 - (p.matmul(p.t()) / norms.matmul(norms.t()).clamp_min(1e-7));
        var identity = eye(batch, dtype: logits.dtype, device: logits.device);
        distance = (distance * (1 - identity)) - identity;
        var nearest = distance.topk(neighbours, 1, largest: false).indexes;
        var adjacency = zeros(batch, batch, logits.dtype, logits.device);
        adjacency.scatter_(1, nearest, full(batch, neighbours, 1.0 / neighbours, logits.dtype, logits.device));
        return adjacency;
    }
}
