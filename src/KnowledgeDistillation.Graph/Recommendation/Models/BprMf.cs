using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Recommendation;

/// <summary>
/// Matrix factorisation for BPR (Rendle et al. 2009, "BPR: Bayesian Personalized Ranking from Implicit Feedback", UAI): one
/// embedding row per user and per item, initialised N(0, 0.01²) as in the topology-distillation code.
/// </summary>
public sealed class BprMf : RecommenderModel
{
    private readonly Parameter user_emb;
    private readonly Parameter item_emb;

    /// <summary>Creates the model.</summary>
    /// <param name="userCount">Users, &gt;= 1.</param>
    /// <param name="itemCount">Items, &gt;= 1.</param>
    /// <param name="dimension">Embedding width, &gt;= 1.</param>
    /// <param name="initStd">Standard deviation of the normal initialisation, &gt; 0 (default 0.01).</param>
    /// <param name="name">Module name.</param>
    public BprMf(int userCount, int itemCount, int dimension, double initStd = 0.01, string name = "bprmf")
        : base(name, userCount, itemCount, dimension)
    {
        Guard.Positive(initStd, nameof(initStd));
        user_emb = new Parameter(randn(userCount, dimension) * initStd);
        item_emb = new Parameter(randn(itemCount, dimension) * initStd);
        RegisterComponents();
    }

    /// <summary>The user table [U, d].</summary>
    public Parameter UserWeight => user_emb;

    /// <summary>The item table [I, d].</summary>
    public Parameter ItemWeight => item_emb;

    /// <inheritdoc />
    public override (Tensor Users, Tensor Items) Embeddings() => (user_emb.alias(), item_emb.alias());
}
