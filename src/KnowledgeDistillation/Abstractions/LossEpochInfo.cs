namespace KnowledgeDistillation;

/// <summary>Where training stands when a loss's <see cref="IDistillationLoss.OnEpochEnd"/> hook runs.</summary>
/// <param name="Stage">The stage's name.</param>
/// <param name="Epoch">The epoch that ended, within the stage, from 0.</param>
/// <param name="Step">The global step count so far.</param>
public sealed record LossEpochInfo(string Stage, int Epoch, long Step);
