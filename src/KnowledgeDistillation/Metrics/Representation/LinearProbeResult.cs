namespace KnowledgeDistillation.Metrics;

/// <summary>The outcome of a <see cref="LinearProbe"/>.</summary>
/// <param name="TrainAccuracy">Accuracy of the trained classifier on the training features.</param>
/// <param name="TestAccuracy">Accuracy on the test features.</param>
public sealed record LinearProbeResult(double TrainAccuracy, double TestAccuracy);
