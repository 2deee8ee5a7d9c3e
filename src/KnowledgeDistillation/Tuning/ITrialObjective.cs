namespace KnowledgeDistillation.Tuning;

/// <summary>What a <see cref="HyperparameterSearch"/> optimises: trains (or otherwise evaluates) one configuration and scores it.</summary>
public interface ITrialObjective
{
    /// <summary>Evaluates one configuration.</summary>
    /// <param name="trial">The configuration, its index and a per-trial seed for model initialisation.</param>
    /// <param name="cancellationToken">Cancels the search; pass it on to long calls (<c>Distiller.Fit</c>).</param>
    /// <returns>
    /// The validation score. NaN or an infinity records the trial as failed; an exception records it as failed with its
    /// message (or stops the search when <see cref="HyperparameterSearchOptions.StopOnError"/> is set).
    /// </returns>
    double Evaluate(TrialParameters trial, CancellationToken cancellationToken);
}
