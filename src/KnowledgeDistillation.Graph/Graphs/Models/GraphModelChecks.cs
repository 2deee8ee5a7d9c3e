namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Argument checks shared by the graph models (the generic ones are in <see cref="Guard"/>).</summary>
internal static class GraphModelChecks
{
    public static long Positive(long value, string name) =>
        value >= 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be >= 1.");

    public static double Probability(double value, string name) =>
        value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(name, value, $"'{name}' must be in [0, 1).");

    public static void Features(TorchSharp.torch.Tensor x, long nodes, long features, string model)
    {
        if (x.dim() != 2 || x.shape[0] != nodes || x.shape[1] != features)
        {
            throw new ArgumentException(
                $"{model} expects node features of shape [{nodes}, {features}]; got {Guard.Shape(x)}.", nameof(x));
        }
    }
}
