using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Argument checks shared by the graph losses and metrics.</summary>
internal static class GraphLossChecks
{
    public static void NodeMask(Tensor mask, Tensor rows, string name)
    {
        if (mask.dtype != ScalarType.Bool || mask.dim() != 1 || mask.shape[0] != rows.shape[0])
        {
            throw new ArgumentException(
                $"'{name}' must be a bool mask of shape [{rows.shape[0]}] (one entry per node); got {mask.dtype} {Guard.Shape(mask)}.", name);
        }
    }

    public static Tensor Extra(DistillationContext context, string key) =>
        context.Batch.Extras.TryGetValue(key, out var value)
            ? value
            : throw new KeyNotFoundException(
                $"The batch has no extra '{key}'. Extras: {string.Join(", ", context.Batch.Extras.Keys)}. Use GraphBatchSource, which provides train/val/test masks.");
}
