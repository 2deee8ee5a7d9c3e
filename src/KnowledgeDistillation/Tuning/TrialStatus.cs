namespace KnowledgeDistillation.Tuning;

/// <summary>How a trial of a <see cref="HyperparameterSearch"/> ended.</summary>
public enum TrialStatus
{
    /// <summary>The objective returned a finite score.</summary>
    Completed,

    /// <summary>The objective threw, or returned NaN or an infinity; <see cref="TrialResult.Error"/> says which.</summary>
    Failed,
}
