using FluentAssertions;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

/// <summary>Native tensors do not accumulate over full-graph epochs (the count is global; the suite runs serially).</summary>
public sealed class NativeMemoryTests
{
    [Fact]
    public void Tensor_count_stays_flat_over_teacher_and_cpf_epochs()
    {
        var graph = TinyGraphs.Communities(30, seed: 3).Standardize();
        using var data = new GraphBatchSource(graph, GraphSplit.Cpf(graph.Labels, 0, trainPerClass: 5, validationPerClass: 5));
        var adjacency = GraphAdjacency.FromDataset(graph);
        random.manual_seed(1);
        using var gat = new Gat(adjacency, graph.FeatureCount, 2, hidden: 4, heads: 2);
        using var student = new CpfStudent(adjacency, graph.FeatureCount, 2, data.Labels, data.Split.Train, new CpfOptions { Layers = 3, Hidden = 8 });
        var options = new GraphTrainingOptions { MaxEpochs = 3, Patience = 1000, Seed = 2 };

        GraphTraining.FitTeacher(gat, data, options);
        using var stored = StoredPredictions.From(gat, data.Features);
        GraphTraining.FitCpf(student, stored, data, options);
        var afterWarmUp = Tensor.TotalCount;

        GraphTraining.FitTeacher(gat, data, options with { MaxEpochs = 30 });
        GraphTraining.FitCpf(student, stored, data, options with { MaxEpochs = 30 });

        Tensor.TotalCount.Should().BeLessThanOrEqualTo(afterWarmUp, "no tensor may outlive its training step");
    }
}
