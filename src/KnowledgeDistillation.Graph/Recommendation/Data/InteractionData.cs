namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// Implicit-feedback data with dense ids: the positive interactions (duplicates of a user-item pair kept once, at their
/// earliest time) and the original ids of every dense user and item id.
/// </summary>
public sealed class InteractionData
{
    /// <summary>Creates the data from dense interactions and the original ids.</summary>
    /// <param name="interactions">Positive interactions with ids inside the id tables.</param>
    /// <param name="userIds">Original id of each dense user id.</param>
    /// <param name="itemIds">Original id of each dense item id.</param>
    /// <exception cref="ArgumentException">No interactions, or an id outside the tables.</exception>
    public InteractionData(IReadOnlyList<Interaction> interactions, IReadOnlyList<string> userIds, IReadOnlyList<string> itemIds)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        ArgumentNullException.ThrowIfNull(userIds);
        ArgumentNullException.ThrowIfNull(itemIds);
        if (interactions.Count == 0)
        {
            throw new ArgumentException("There are no positive interactions.", nameof(interactions));
        }
        foreach (var x in interactions)
        {
            if ((uint)x.User >= (uint)userIds.Count || (uint)x.Item >= (uint)itemIds.Count)
            {
                throw new ArgumentException($"Interaction {x} has an id outside [0, {userIds.Count}) x [0, {itemIds.Count}).", nameof(interactions));
            }
        }
        Interactions = interactions;
        UserIds = userIds;
        ItemIds = itemIds;
    }

    /// <summary>The positive interactions.</summary>
    public IReadOnlyList<Interaction> Interactions { get; }

    /// <summary>Original id of each dense user id.</summary>
    public IReadOnlyList<string> UserIds { get; }

    /// <summary>Original id of each dense item id.</summary>
    public IReadOnlyList<string> ItemIds { get; }

    /// <summary>Number of users.</summary>
    public int UserCount => UserIds.Count;

    /// <summary>Number of items.</summary>
    public int ItemCount => ItemIds.Count;
}
