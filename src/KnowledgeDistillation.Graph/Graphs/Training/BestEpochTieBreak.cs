namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>Which epoch is restored when several share the best validation accuracy (<see cref="GraphTrainingOptions.TieBreak"/>).</summary>
public enum BestEpochTieBreak
{
    /// <summary>The first epoch that reached the best value.</summary>
    First,

    /// <summary>The last epoch that reached the best value (a later, more trained model of equal validation accuracy).</summary>
    Last,
}
