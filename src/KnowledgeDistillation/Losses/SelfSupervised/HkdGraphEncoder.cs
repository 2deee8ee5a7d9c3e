using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// HKD's GNN (wyc-ruiker/HKD <c>Encoder</c>: DGL's <c>TAGConv(D, D, k=1)</c> then L2 normalisation), written densely:
/// <c>g = normalize(W [e ; Â e] + b)</c> with the normalised adjacency Â of <see cref="HkdGraph"/>. State-dict names are
/// <c>linear.weight</c> [D_out, 2 D_in] and <c>linear.bias</c>.
/// </summary>
public sealed class HkdGraphEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> linear;

    /// <summary>Creates the encoder with freshly initialised weights (TorchSharp's global generator).</summary>
    /// <param name="inputDimension">D_in &gt;= 1, the node embeddings' width.</param>
    /// <param name="outputDimension">D_out &gt;= 1; <c>null</c>: D_in (the official code: 128 → 128).</param>
    /// <param name="name">Module name.</param>
    /// <exception cref="ArgumentOutOfRangeException">A width is below 1.</exception>
    public HkdGraphEncoder(long inputDimension = 128, long? outputDimension = null, string name = "hkd_gnn")
        : base(name)
    {
        InputDimension = inputDimension >= 1 ? inputDimension : throw new ArgumentOutOfRangeException(nameof(inputDimension), inputDimension, "The input width must be >= 1.");
        OutputDimension = outputDimension ?? inputDimension;
        if (OutputDimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(outputDimension), outputDimension, "The output width must be >= 1.");
        }

        linear = nn.Linear(2 * inputDimension, OutputDimension);
        RegisterComponents();
    }

    /// <summary>D_in.</summary>
    public long InputDimension { get; }

    /// <summary>D_out.</summary>
    public long OutputDimension { get; }

    /// <summary>Holistic embeddings [B, D_out] of node embeddings <paramref name="nodes"/> [B, D_in] over the graph <paramref name="adjacency"/> [B, B].</summary>
    /// <param name="nodes">The node embeddings.</param>
    /// <param name="adjacency">Â.</param>
    /// <returns>Unit rows.</returns>
    /// <exception cref="ArgumentException">The shapes do not fit.</exception>
    public override Tensor forward(Tensor nodes, Tensor adjacency)
    {
        Guard.Rank(nodes, 2, nameof(nodes), $"[batch, {InputDimension}]");
        if (nodes.shape[1] != InputDimension)
        {
            throw new ArgumentException($"The node embeddings {Guard.Shape(nodes)} must be [batch, {InputDimension}].", nameof(nodes));
        }

        if (adjacency is null || adjacency.dim() != 2 || adjacency.shape[0] != nodes.shape[0] || adjacency.shape[1] != nodes.shape[0])
        {
            throw new ArgumentException($"The adjacency must be [{nodes.shape[0]}, {nodes.shape[0]}]; got {(adjacency is null ? "null" : Guard.Shape(adjacency))}.", nameof(adjacency));
        }

        var h = linear.call(cat(new[] { nodes, adjacency.matmul(nodes) }, 1));
        return h / h.pow(2).sum(1, keepdim: true).sqrt();
    }
}
