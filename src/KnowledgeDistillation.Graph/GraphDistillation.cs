namespace KnowledgeDistillation.Graph;

/// <summary>
/// Entry point of the graph module: graph students (CPF) and knowledge-graph-embedding students (DualDE)
/// are added here on top of the core abstractions. This release ships the package and namespace only.
/// </summary>
public static class GraphDistillation
{
    /// <summary>The version of the core library this module was built against.</summary>
    public static Version CoreVersion => typeof(IDistillationLoss).Assembly.GetName().Version ?? new Version(0, 0);
}
