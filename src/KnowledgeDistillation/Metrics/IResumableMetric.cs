namespace KnowledgeDistillation.Metrics;

/// <summary>
/// A metric whose partial accumulation can be saved in a checkpoint and restored, so a run resumed in the
/// middle of an epoch reports the same epoch metrics as an uninterrupted one.
/// </summary>
public interface IResumableMetric : IMetric
{
    /// <summary>The accumulated state as numbers (reads the device once).</summary>
    double[] GetState();

    /// <summary>Restores a state returned by <see cref="GetState"/>.</summary>
    /// <param name="state">The saved state.</param>
    /// <exception cref="ArgumentException">The state has the wrong length.</exception>
    void SetState(double[] state);
}
