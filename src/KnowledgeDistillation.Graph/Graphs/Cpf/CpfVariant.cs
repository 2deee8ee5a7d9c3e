namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>How the CPF student scores a node's confidence c_u for label propagation.</summary>
public enum CpfVariant
{
    /// <summary>CPF-ind: c_u = z^T dropout(x_u) from the node's features (z learnable); applies to unseen nodes.</summary>
    Inductive,

    /// <summary>CPF-tra: c_u is a free learnable scalar per node (with dropout).</summary>
    Transductive,
}
