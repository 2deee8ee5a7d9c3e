namespace KnowledgeDistillation.Tuning;

/// <summary>Whether a hyper-parameter search looks for the largest or the smallest objective score.</summary>
public enum OptimizationDirection
{
    /// <summary>Larger is better (accuracy, F1, mean reciprocal rank).</summary>
    Maximize,

    /// <summary>Smaller is better (a validation loss, an error rate).</summary>
    Minimize,
}
