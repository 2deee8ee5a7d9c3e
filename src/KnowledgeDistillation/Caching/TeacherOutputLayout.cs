namespace KnowledgeDistillation.Caching;

/// <summary>One cached output of a teacher: its name ("logits" or "feature:NAME") and the shape of one sample's row.</summary>
internal sealed record TeacherOutputEntry(string Name, long[] RowShape)
{
    public const string LogitsName = "logits";
    public const string FeaturePrefix = "feature:";

    public long RowElements => RowShape.Aggregate(1L, (a, b) => a * b);

    public bool SameAs(TeacherOutputEntry other) => Name == other.Name && RowShape.SequenceEqual(other.RowShape);

    public override string ToString() => $"{Name} [{string.Join(", ", RowShape)}]";
}
