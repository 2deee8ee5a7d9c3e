namespace KnowledgeDistillation.Losses;

/// <summary>
/// A student feature and the teacher feature a feature or relational term compares it with (feature names are module
/// paths for hook capture, e.g. "layer2"). A string converts to a pair of one name on both sides.
/// </summary>
public sealed record FeaturePair
{
    /// <summary>Creates a pair.</summary>
    /// <param name="student">The student's feature name.</param>
    /// <param name="teacher">The teacher's feature name.</param>
    /// <exception cref="ArgumentException">A name is empty or whitespace.</exception>
    public FeaturePair(string student, string teacher)
    {
        Student = Guard.Name(student, nameof(student));
        Teacher = Guard.Name(teacher, nameof(teacher));
    }

    /// <summary>The student's feature name.</summary>
    public string Student { get; }

    /// <summary>The teacher's feature name.</summary>
    public string Teacher { get; }

    /// <summary>A pair of one feature name on both sides.</summary>
    /// <param name="feature">The feature name both participants produce.</param>
    public static implicit operator FeaturePair(string feature) => new(feature, feature);

    /// <summary>A pair of one feature name on both sides.</summary>
    /// <param name="feature">The feature name both participants produce.</param>
    public static FeaturePair Same(string feature) => new(feature, feature);

    /// <inheritdoc />
    public override string ToString() => Student == Teacher ? Student : $"{Student} -> {Teacher}";
}
