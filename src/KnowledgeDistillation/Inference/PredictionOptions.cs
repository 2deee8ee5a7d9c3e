namespace KnowledgeDistillation.Inference;

/// <summary>Settings of <see cref="Prediction"/>.</summary>
public sealed class PredictionOptions
{
    /// <summary>Samples per forward pass when predicting from a tensor (default 256; an <c>IBatchSource</c> keeps its own batches).</summary>
    public int BatchSize { get; set; } = 256;

    /// <summary>
    /// The device to run on (<c>"cpu"</c>, <c>"cuda"</c>, <c>"cuda:N"</c>): the model is moved there, as <c>Distiller.Fit</c>
    /// moves participants, and the result lives there. <c>null</c> (the default) keeps the model where it is.
    /// </summary>
    public string? Device { get; set; }

    /// <summary>What to return (default <see cref="PredictionOutput.Logits"/>).</summary>
    public PredictionOutput Output { get; set; } = PredictionOutput.Logits;
}
