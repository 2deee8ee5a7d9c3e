using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Which samples a non-finite step came from: the batch's sample indices (<see cref="Data.Batch.Indices"/>, positions in
/// the dataset) and, among them, those whose inputs or participants' logits are already NaN or infinite. Computed only
/// when a step's loss is not finite (a few host reads), never on healthy steps.
/// </summary>
internal static class NonFiniteSamples
{
    private const int MaxListed = 16;

    /// <summary>The batch's sample indices, the suspects among them, and a sentence for the message.</summary>
    public static (IReadOnlyList<long> Batch, IReadOnlyList<long> Suspects, string Description) Locate(DistillationContext context)
    {
        using var scope = NewDisposeScope();
        var batch = context.Batch;
        var indices = batch.Indices.cpu().to(ScalarType.Int64).data<long>().ToArray();
        var suspects = new SortedSet<long>();
        var findings = new List<string>();
        Inspect("inputs", batch.Inputs);
        foreach (var (name, output) in context.Outputs)
        {
            if (output.Logits is { } logits)
            {
                Inspect($"logits of '{name}'", logits);
            }
        }

        var description = $"the batch's samples (dataset indices) {Format(indices)}; " +
            (findings.Count == 0
                ? "their inputs and logits are finite, so the loss computation itself overflowed (large logits, a zero inside a log)"
                : string.Join("; ", findings));
        return (indices, suspects.ToArray(), description);

        void Inspect(string what, Tensor values)
        {
            if (!values.is_floating_point() || values.dim() == 0 || values.shape[0] != indices.Length)
            {
                return;
            }

            var rows = isfinite(values.detach()).reshape(values.shape[0], -1).all(1).logical_not().nonzero().reshape(-1).cpu().data<long>().ToArray();
            if (rows.Length > 0)
            {
                var samples = rows.Select(r => indices[r]).ToArray();
                suspects.UnionWith(samples);
                findings.Add($"{what} are not finite for sample(s) {Format(samples)}");
            }
        }
    }

    private static string Format(IReadOnlyList<long> samples) =>
        "[" + string.Join(", ", samples.Take(MaxListed)) + (samples.Count > MaxListed ? $", ... ({samples.Count} in all)" : string.Empty) + "]";
}
