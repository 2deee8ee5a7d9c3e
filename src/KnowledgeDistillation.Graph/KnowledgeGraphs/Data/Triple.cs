namespace KnowledgeDistillation.Graph.KnowledgeGraphs;

/// <summary>A fact (head, relation, tail) as vocabulary ids.</summary>
/// <param name="Head">The head entity id.</param>
/// <param name="Relation">The relation id.</param>
/// <param name="Tail">The tail entity id.</param>
public readonly record struct Triple(int Head, int Relation, int Tail);
