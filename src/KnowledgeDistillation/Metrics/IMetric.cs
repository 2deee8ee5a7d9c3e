using KnowledgeDistillation.Data;

namespace KnowledgeDistillation.Metrics;

/// <summary>
/// A metric accumulated over batches. <see cref="Update"/> runs every step and must not read values back
/// to the host (accumulate in tensors on the device); <see cref="Compute"/> reads the result once.
/// </summary>
public interface IMetric : IDisposable
{
    /// <summary>The metric's name in history and logs (e.g. "accuracy").</summary>
    string Name { get; }

    /// <summary>Whether a larger value is better (used to pick the best epoch).</summary>
    bool HigherIsBetter { get; }

    /// <summary>Adds one batch.</summary>
    /// <param name="output">The participant's output for the batch.</param>
    /// <param name="batch">The batch.</param>
    void Update(ModelOutput output, Batch batch);

    /// <summary>Returns the value over all batches since the last <see cref="Reset"/> (one host read).</summary>
    double Compute();

    /// <summary>Starts a new accumulation.</summary>
    void Reset();
}
