using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// A latent-factor recommender: final user and item embedding tables whose inner products are the scores
/// (<c>score(u, i) = users[u] · items[i]</c>).
/// </summary>
public abstract class RecommenderModel : nn.Module
{
    /// <summary>Creates the model.</summary>
    /// <param name="name">Module name.</param>
    /// <param name="userCount">Users, &gt;= 1.</param>
    /// <param name="itemCount">Items, &gt;= 1.</param>
    /// <param name="dimension">Embedding width, &gt;= 1.</param>
    protected RecommenderModel(string name, int userCount, int itemCount, int dimension)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(userCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(itemCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        UserCount = userCount;
        ItemCount = itemCount;
        Dimension = dimension;
    }

    /// <summary>Number of users.</summary>
    public int UserCount { get; }

    /// <summary>Number of items.</summary>
    public int ItemCount { get; }

    /// <summary>Embedding width.</summary>
    public int Dimension { get; }

    /// <summary>Number of embedding parameters (users + items) x dimension.</summary>
    public long EmbeddingParameterCount => (long)(UserCount + ItemCount) * Dimension;

    /// <summary>The final embedding tables: users [U, d] and items [I, d] (with gradient when training).</summary>
    public abstract (Tensor Users, Tensor Items) Embeddings();
}
