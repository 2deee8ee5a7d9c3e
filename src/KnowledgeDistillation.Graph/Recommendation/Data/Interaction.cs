namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>One positive user-item interaction with dense ids (0-based, after remapping) and its timestamp.</summary>
/// <param name="User">Dense user id in [0, users).</param>
/// <param name="Item">Dense item id in [0, items).</param>
/// <param name="Timestamp">The interaction's time (or its row number when the file has no timestamp column).</param>
public readonly record struct Interaction(int User, int Item, long Timestamp);
