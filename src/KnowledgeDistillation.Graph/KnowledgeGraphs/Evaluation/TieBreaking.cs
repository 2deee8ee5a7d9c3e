namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>How the rank of the target treats other entities with exactly the target's score.</summary>
public enum TieBreaking
{
    /// <summary>The mean of the optimistic and pessimistic ranks: 1 + #higher + #tied / 2 (the default; fair to constant scorers).</summary>
    Mean,

    /// <summary>The target ranks above every tie: 1 + #higher.</summary>
    Optimistic,

    /// <summary>The target ranks below every tie: 1 + #higher + #tied.</summary>
    Pessimistic,
}
