namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>Which side of a positive triple negative sampling replaces.</summary>
public enum CorruptionMode
{
    /// <summary>Alternate by batch: even batches corrupt tails, odd batches corrupt heads (as in RotatE's and NeuralKG's samplers).</summary>
    Alternate,

    /// <summary>Always replace the tail.</summary>
    Tail,

    /// <summary>Always replace the head.</summary>
    Head,
}
