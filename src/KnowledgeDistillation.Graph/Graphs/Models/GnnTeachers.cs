using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Graphs;

/// <summary>
/// The teachers with the configurations CPF's code and the models' papers use on the citation graphs (one fixed
/// configuration per model, no search): architecture via <see cref="Create"/>, optimiser via <see cref="TrainingOptions"/>.
/// </summary>
public static class GnnTeachers
{
    /// <summary>Creates an untrained teacher of kind <paramref name="kind"/> for <paramref name="graph"/> (an undirected graph without self loops).</summary>
    public static nn.Module<Tensor, Tensor> Create(GnnKind kind, GraphAdjacency graph, long features, int classes) => kind switch
    {
        GnnKind.Gcn => new Gcn(graph, features, classes, hidden: 64, dropout: 0.8),
        GnnKind.Gat => new Gat(graph, features, classes, hidden: 8, heads: 8, featureDropout: 0.6, attentionDropout: 0.6),
        GnnKind.Appnp => new Appnp(graph, features, classes, hidden: 64, dropout: 0.5, alpha: 0.1, steps: 10),
        GnnKind.GraphSage => new GraphSage(graph, features, classes, hidden: 16, dropout: 0.5),
        GnnKind.Sgc => new Sgc(graph, features, classes, steps: 2),
        GnnKind.Gcnii => new Gcnii(graph, features, classes, hidden: 64, layers: 16, alpha: 0.1, lambda: 0.5, dropout: 0.6),
        GnnKind.Glp => new Glp(graph, features, classes, hidden: 64, dropout: 0.5, steps: 2),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown GNN kind."),
    };

    /// <summary>The optimiser settings used for <paramref name="kind"/> (Adam; early stopping on validation accuracy).</summary>
    public static GraphTrainingOptions TrainingOptions(GnnKind kind, int? seed = null) => kind switch
    {
        GnnKind.Gcn => new() { LearningRate = 0.01, WeightDecay = 1e-3, Seed = seed },
        GnnKind.Gat => new() { LearningRate = 0.005, WeightDecay = 5e-4, Seed = seed },
        GnnKind.Appnp => new() { LearningRate = 0.01, WeightDecay = 5e-3, Seed = seed },
        GnnKind.GraphSage => new() { LearningRate = 0.01, WeightDecay = 5e-4, Seed = seed },
        GnnKind.Sgc => new() { LearningRate = 0.2, WeightDecay = 5e-5, Seed = seed },
        GnnKind.Gcnii => new() { LearningRate = 0.01, WeightDecay = 5e-4, Seed = seed },
        GnnKind.Glp => new() { LearningRate = 0.01, WeightDecay = 5e-4, Seed = seed },
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown GNN kind."),
    };
}
