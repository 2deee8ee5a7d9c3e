using KnowledgeDistillation.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Losses;

/// <summary>
/// HKD's GNN (wyc-ruiker/HKD <c>Encoder</c>: DGL's <c>TAGConv(D, D, k=1)</c> then L2 normalisation), written densely:
/// <c>g = normalize(W [e ; Â e] + b)</c> with the normalised adjacency Â of <see cref="HkdGraph"/>. State-dict names are
/// <c>linear.weight</c> [D_out, 2 D_in] and <c>linear.bias</c>. W starts as DGL's <c>TAGConv.reset_parameters</c> sets it:
/// Xavier-normal with the ReLU gain √2, i.e. normal with standard deviation <c>√2 · √(2 / (2 D_in + D_out))</c> (about 2.8
/// times the spread of a default linear layer's uniform start for 128 → 128); b keeps the linear layer's default uniform start.
/// </summary>
public sealed class HkdGraphEncoder : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly TorchSharp.Modules.Linear linear;

    /// <summary>Creates the encoder with freshly initialised weights (TorchSharp's global generator; W as DGL's TAGConv).</summary>
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
        // DGL's TAGConv start; XavierNormal draws a normal (TorchSharp 0.107's xavier_normal_ draws a uniform one).
        XavierNormal.Initialize(linear.weight!, ReluGain);

        RegisterComponents();
    }

    /// <summary>The gain of the weight's Xavier-normal start (DGL's <c>calculate_gain('relu')</c>, √2).</summary>
    public static double ReluGain { get; } = Math.Sqrt(2);

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
