namespace KnowledgeDistillation.Engine;

/// <summary>
/// The scalars of an epoch under the names every tracker uses: <c>loss</c>, <c>loss/{part}</c>,
/// <c>train/{participant}/{metric}</c>, <c>eval/{participant}/{metric}</c>, <c>lr</c>, <c>seconds</c>.
/// </summary>
internal static class EpochScalars
{
    public static IEnumerable<(string Name, double Value)> Of(EpochRecord record)
    {
        yield return ("loss", record.Loss);
        foreach (var (part, value) in record.LossParts)
        {
            yield return ($"loss/{part}", value);
        }

        foreach (var (participant, metrics) in record.TrainMetrics)
        {
            foreach (var (metric, value) in metrics)
            {
                yield return ($"train/{participant}/{metric}", value);
            }
        }

        foreach (var (participant, metrics) in record.EvalMetrics)
        {
            foreach (var (metric, value) in metrics)
            {
                yield return ($"eval/{participant}/{metric}", value);
            }
        }

        yield return ("lr", record.LearningRate);
        yield return ("seconds", record.Duration.TotalSeconds);
    }
}
