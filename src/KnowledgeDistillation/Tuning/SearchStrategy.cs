namespace KnowledgeDistillation.Tuning;

/// <summary>How a <see cref="HyperparameterSearch"/> chooses the configurations it tries.</summary>
public enum SearchStrategy
{
    /// <summary>
    /// Independent random draws from the <see cref="SearchSpace"/>: trial <c>i</c>'s configuration is a pure function of
    /// (<see cref="HyperparameterSearchOptions.Seed"/>, <c>i</c>), so a resumed or longer search repeats the same draws.
    /// Needs <see cref="HyperparameterSearchOptions.MaxTrials"/>.
    /// </summary>
    Random,

    /// <summary>
    /// The full cartesian product of every parameter's grid, in declaration order with the last-declared parameter varying
    /// fastest (as nested loops). Continuous parameters need an explicit number of grid points.
    /// </summary>
    Grid,
}
