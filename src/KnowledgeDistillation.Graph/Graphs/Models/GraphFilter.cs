using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Fixed low-pass graph filters of the feature matrix, shared by SGC and GLP.</summary>
internal static class GraphFilter
{
    /// <summary>Â^K x, without gradient (the features are constants).</summary>
    public static Tensor Power(GraphPropagation propagation, Tensor x, int steps)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var h = x;
        for (var k = 0; k < steps; k++)
        {
            h = propagation.call(h);
        }

        return h.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Filters <paramref name="x"/> once and reuses the result while the same input tensor (same storage, shape and
    /// device) comes back; the cache holds its own handles, the caller gets a new handle each time.
    /// </summary>
    public static Tensor Cached(Tensor x, ref Tensor? cachedInput, ref Tensor? cachedFiltered, Func<Tensor, Tensor> filter)
    {
        if (x.dtype != ScalarType.Float32 || x.requires_grad)
        {
            return filter(x);
        }

        if (cachedInput is null || cachedFiltered is null || cachedInput.IsInvalid
            || cachedInput.storage<float>().data_ptr() != x.storage<float>().data_ptr()
            || cachedInput.storage_offset() != x.storage_offset()
            || !cachedInput.shape.SequenceEqual(x.shape) || cachedInput.device_type != x.device_type)
        {
            cachedInput?.Dispose();
            cachedFiltered?.Dispose();
            cachedInput = x.alias().DetachFromDisposeScope();
            cachedFiltered = filter(x).DetachFromDisposeScope();
        }

        return cachedFiltered.alias();
    }
}
