namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>The GNN teachers CPF distils from.</summary>
public enum GnnKind
{
    /// <summary><see cref="Gcn"/>.</summary>
    Gcn,

    /// <summary><see cref="Gat"/>.</summary>
    Gat,

    /// <summary><see cref="Appnp"/>.</summary>
    Appnp,

    /// <summary><see cref="GraphSage"/>.</summary>
    GraphSage,

    /// <summary><see cref="Sgc"/>.</summary>
    Sgc,

    /// <summary><see cref="Gcnii"/>.</summary>
    Gcnii,

    /// <summary><see cref="Glp"/>.</summary>
    Glp,
}
