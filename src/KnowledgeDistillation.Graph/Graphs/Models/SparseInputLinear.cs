using KnowledgeDistillation.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// <c>Linear(dropout(x))</c> that exploits sparse inputs such as bag-of-words node features (Cora: 1.3% non-zero).
/// The non-zeros of an input are found once and cached while the same input storage comes back; dropout is then drawn
/// on the non-zero values only (zeros stay zero either way, so the distribution is that of ordinary dropout) and the
/// product is <c>out[i] = b + sum_j v_ij W[:, j]</c> via <c>index_select</c> + <c>index_add</c>. Dense inputs, inputs that
/// need a gradient, and non-float32 inputs take the ordinary dense path.
/// </summary>
internal sealed class SparseInputLinear : nn.Module<Tensor, Tensor>, IOnnxExportable
{
    private const double MaxDensity = 0.2;
    private readonly Linear linear;
    private readonly double dropout;
    private Tensor? cachedInput;
    private Tensor? rows;
    private Tensor? columns;
    private Tensor? values;

    public SparseInputLinear(long inFeatures, long outFeatures, bool hasBias, double dropout, string name = "linear")
        : base(name)
    {
        linear = nn.Linear(inFeatures, outFeatures, hasBias);
        this.dropout = GraphModelChecks.Probability(dropout, nameof(dropout));
        RegisterComponents();
    }

    public Parameter Weight => linear.weight!;

    public Parameter? Bias => linear.bias;

    public override Tensor forward(Tensor x)
    {
        if (!Sparse(x))
        {
            using var scope = NewDisposeScope();
            var input = training && dropout > 0 ? nn.functional.dropout(x, dropout, true) : x;
            return linear.call(input).MoveToOuterDisposeScope();
        }

        using (var scope = NewDisposeScope())
        {
            var v = training && dropout > 0 ? nn.functional.dropout(values!, dropout, true) : values!;
            var messages = linear.weight!.t().index_select(0, columns!) * v.unsqueeze(1);
            var result = zeros(new[] { x.shape[0], linear.weight!.shape[0] }, x.dtype, x.device).index_add(0, rows!, messages, 1);
            if (linear.bias is { } bias)
            {
                result = result + bias;
            }

            return result.MoveToOuterDisposeScope();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Clear();
        }

        base.Dispose(disposing);
    }

    private bool Sparse(Tensor x)
    {
        if (x.dtype != ScalarType.Float32 || x.dim() != 2 || x.requires_grad)
        {
            return false;
        }

        if (cachedInput is not null && !cachedInput.IsInvalid && cachedInput.device_type == x.device_type
            && cachedInput.storage<float>().data_ptr() == x.storage<float>().data_ptr()
            && cachedInput.storage_offset() == x.storage_offset() && cachedInput.shape.SequenceEqual(x.shape))
        {
            return values is not null;
        }

        Clear();
        cachedInput = x.alias().DetachFromDisposeScope();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var nonzero = x.nonzero();
        if (nonzero.shape[0] > MaxDensity * x.numel())
        {
            return false;
        }

        var r = nonzero.select(1, 0).contiguous();
        var c = nonzero.select(1, 1).contiguous();
        values = x.flatten().index_select(0, (r * x.shape[1]) + c).DetachFromDisposeScope();
        rows = r.DetachFromDisposeScope();
        columns = c.DetachFromDisposeScope();
        return true;
    }

    private void Clear()
    {
        cachedInput?.Dispose();
        rows?.Dispose();
        columns?.Dispose();
        values?.Dispose();
        cachedInput = rows = columns = values = null;
    }

    /// <inheritdoc />
    public OnnxValue EmitOnnx(OnnxGraphBuilder graph, OnnxValue input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return graph.Emit(linear, input, nameof(linear)); // eval mode: no dropout; the sparse path computes the same product
    }
}
