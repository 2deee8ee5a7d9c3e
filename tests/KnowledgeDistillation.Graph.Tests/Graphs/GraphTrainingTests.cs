using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.Tests.Support;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

/// <summary>Full-graph training through the core engine: batch source, masked loss and metric, early stopping, CPF end to end.</summary>
public sealed class GraphTrainingTests
{
    private static readonly GraphDataset Graph = TinyGraphs.Communities(60, seed: 1).Standardize();

    private static GraphBatchSource Source(int seed = 0) => new(Graph, GraphSplit.Cpf(Graph.Labels, seed, trainPerClass: 5, validationPerClass: 10));

    [Fact]
    public void The_source_yields_one_full_graph_batch_with_split_masks()
    {
        using var data = Source();
        var batches = data.GetBatches(0, CPU).ToList();

        batches.Should().ContainSingle();
        var batch = batches[0];
        batch.Size.Should().Be(Graph.NodeCount);
        batch.Indices.data<long>().Should().Equal(Enumerable.Range(0, (int)Graph.NodeCount).Select(i => (long)i));
        batch.Extras.Keys.Should().BeEquivalentTo("train_mask", "val_mask", "test_mask");
        batch.Extras["train_mask"].sum().item<long>().Should().Be(10);
        batch.Extras["val_mask"].sum().item<long>().Should().Be(20);
        data.ClassCount.Should().Be(2);
    }

    [Fact]
    public void Masked_loss_and_accuracy_only_see_their_nodes()
    {
        var logits = tensor(new float[] { 5, 0, 0, 5, 5, 0, 0, 5 }, new long[] { 4, 2 });
        var labels = tensor(new long[] { 0, 1, 1, 0 });
        var train = tensor(new[] { true, true, false, false });
        MaskedCrossEntropyLoss.Value(logits, labels, train).item<float>()
            .Should().BeApproximately((float)Math.Log(1 + Math.Exp(-5)), 1e-5f);

        var batch = new Batch(zeros(4, 1), labels, arange(4), new Dictionary<string, Tensor> { ["val_mask"] = tensor(new[] { true, false, true, false }) });
        using var metric = new MaskedAccuracy("val");
        metric.Update(new ModelOutput(logits), batch);
        metric.Name.Should().Be("val_accuracy");
        metric.Compute().Should().Be(0.5);
    }

    [Fact]
    public void A_teacher_trains_with_distiller_fit_and_early_stopping_restores_the_best_state()
    {
        using var data = Source();
        random.manual_seed(2);
        using var gcn = new Gcn(GraphAdjacency.FromDataset(Graph), Graph.FeatureCount, 2, hidden: 16, dropout: 0.5);

        var result = GraphTraining.FitTeacher(gcn, data, new GraphTrainingOptions { MaxEpochs = 150, Patience = 20, LearningRate = 0.05, Seed = 3 });

        result.TestAccuracy.Should().BeGreaterThan(0.8);
        result.Epochs.Should().BeLessThanOrEqualTo(150);
        var best = result.Fit.History.Max(h => h.EvalMetrics["teacher"]["val_accuracy"]);
        result.ValidationAccuracy.Should().Be(best, "the best-validation parameters are restored");
        result.BestEpoch.Should().Be(result.Fit.History.First(h => h.EvalMetrics["teacher"]["val_accuracy"] == best).Epoch);
    }

    [Theory]
    [InlineData(CpfVariant.Inductive)]
    [InlineData(CpfVariant.Transductive)]
    public void Cpf_distils_a_trained_teacher_through_distiller_fit(CpfVariant variant)
    {
        using var data = Source();
        var adjacency = GraphAdjacency.FromDataset(Graph);
        random.manual_seed(4);
        using var gcn = new Gcn(adjacency, Graph.FeatureCount, 2, hidden: 16, dropout: 0.5);
        GraphTraining.FitTeacher(gcn, data, new GraphTrainingOptions { MaxEpochs = 100, Patience = 20, LearningRate = 0.05, Seed = 5 });
        using var stored = StoredPredictions.From(gcn, data.Features);
        using var student = new CpfStudent(adjacency, Graph.FeatureCount, 2, data.Labels, data.Split.Train,
            new CpfOptions { Variant = variant, Layers = 5, Hidden = 16, FeatureDropout = 0.2, AttentionDropout = 0.2 });
        var before = student.Layer.BalanceLogit.detach().clone();

        var result = GraphTraining.FitCpf(student, stored, data, new GraphTrainingOptions { MaxEpochs = 120, Patience = 30, LearningRate = 0.01, Seed = 6 });

        result.TestAccuracy.Should().BeGreaterThan(0.8);
        result.Fit.History[0].LossParts.Keys.Should().Equal("cpf");
        result.Fit.History[^1].Loss.Should().BeLessThan(result.Fit.History[0].Loss);
        student.Layer.BalanceLogit.allclose(before).Should().BeFalse("the per-node balance is learned");
        var balance = student.Balance();
        balance.shape.Should().Equal(Graph.NodeCount);
        (balance.min().item<float>() > 0 && balance.max().item<float>() < 1).Should().BeTrue();
    }

    [Fact]
    public void Cpf_student_gradients_match_finite_differences_in_float64()
    {
        var graph = TinyGraphs.Irregular();
        foreach (var variant in Enum.GetValues<CpfVariant>())
        {
            random.manual_seed(7);
            using var student = new CpfStudent(graph, 4, 3, tensor(new long[] { 0, 1, 2, 0, 1, 2 }), new long[] { 0, 4 },
                new CpfOptions { Variant = variant, Layers = 3, Hidden = 5, FeatureDropout = 0, AttentionDropout = 0 });
            student.to(ScalarType.Float64);
            using (no_grad())
            {
                student.Layer.BalanceLogit.copy_(randn(6, 1, dtype: ScalarType.Float64));
            }

            var x = randn(6, 4, dtype: ScalarType.Float64, generator: new Generator(8));
            var r = randn(6, 3, dtype: ScalarType.Float64, generator: new Generator(9));
            GradientCheck.AssertParametersMatchFiniteDifferences(
                () => (student.call(x) * r).sum(), student, tolerance: 1e-6, maxElementsPerParameter: 4, prefix: $"{variant} ");
        }
    }

    [Fact]
    public void Teacher_layer_gradients_match_finite_differences_in_float64()
    {
        var graph = TinyGraphs.Irregular();
        foreach (var kind in Enum.GetValues<GnnKind>())
        {
            random.manual_seed(10);
            using var model = GnnTeachers.Create(kind, graph, 4, 3);
            model.to(ScalarType.Float64);
            model.eval();
            var x = randn(6, 4, dtype: ScalarType.Float64, generator: new Generator(11));
            var r = randn(6, 3, dtype: ScalarType.Float64, generator: new Generator(12));
            var (name, parameter) = model.named_parameters().First();
            GradientCheck.AssertMatchesFiniteDifferences(() => (model.call(x) * r).sum(), [($"{kind} {name}", parameter)], tolerance: 1e-6, maxElementsPerInput: 3);
        }
    }
}
