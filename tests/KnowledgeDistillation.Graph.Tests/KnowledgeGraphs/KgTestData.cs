using KnowledgeDistillation.Graph.KnowledgeGraphs;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

internal static class KgTestData
{
    /// <summary>Copies values into a model's entity and relation tables.</summary>
    public static void Set(KgeModel model, double[,] entities, double[,] relations)
    {
        using var noGrad = no_grad();
        model.EntityEmbeddings.copy_(tensor(entities, dtype: model.EntityEmbeddings.dtype));
        model.RelationEmbeddings.copy_(tensor(relations, dtype: model.RelationEmbeddings.dtype));
    }

    /// <summary>A small synthetic KG: a cyclic "next" relation and its inverse "prev" over n entities, with held-out valid/test.</summary>
    public static KnowledgeGraph Ring(int n = 12)
    {
        var all = new List<Triple>();
        for (var i = 0; i < n; i++)
        {
            all.Add(new Triple(i, 0, (i + 1) % n));
            all.Add(new Triple((i + 1) % n, 1, i));
        }
        var test = new[] { all[4], all[11] };
        var valid = new[] { all[6] };
        var train = all.Except(test).Except(valid).ToArray();
        return new KnowledgeGraph(n, 2, train, valid, test);
    }

    public static double Value(Tensor t) => t.to(ScalarType.Float64).item<double>();
}
