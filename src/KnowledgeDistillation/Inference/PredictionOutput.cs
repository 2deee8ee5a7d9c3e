namespace KnowledgeDistillation.Inference;

/// <summary>What <see cref="Prediction"/> returns per sample.</summary>
public enum PredictionOutput
{
    /// <summary>The model's raw outputs (logits), float [N, classes].</summary>
    Logits,

    /// <summary>Softmax over the class dimension (dimension 1), float [N, classes].</summary>
    Probabilities,

    /// <summary>The index of the largest logit, int64 [N].</summary>
    ClassIndices,
}
