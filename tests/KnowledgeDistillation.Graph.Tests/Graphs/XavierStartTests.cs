using FluentAssertions;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Graph.Tests.Support;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

/// <summary>
/// GAT's and CPF's parameters start as the official code's (DGL GATConv / CPF's PLP layer: PyTorch's xavier_normal_ with
/// the ReLU gain √2): normal, not the uniform start TorchSharp 0.107's xavier_normal_ draws.
/// </summary>
public sealed class XavierStartTests
{
    private static void ShouldBeXavierNormal(Tensor parameter, double expectedStd, string because)
    {
        var (_, std, kurtosis) = SampleMoments.Of(parameter);
        std.Should().BeApproximately(expectedStd, 0.03 * expectedStd, because);
        kurtosis.Should().BeInRange(2.75, 3.25, because + ": a normal shape (uniform: 1.8)");
    }

    [Fact]
    public void Gat_weight_starts_xavier_normal_with_the_relu_gain()
    {
        random.manual_seed(4);
        using var conv = new GatConv(new GraphPropagation(TinyGraphs.Irregular().WithSelfLoops()), 1433, 8, heads: 8);
        ShouldBeXavierNormal(conv.Weight, Math.Sqrt(2) * Math.Sqrt(2.0 / (1433 + 64)), "GAT's linear weight [64, 1433]");
    }

    [Theory]
    [InlineData(CpfVariant.Transductive)]
    [InlineData(CpfVariant.Inductive)]
    public void Cpf_confidence_parameters_start_xavier_normal_with_the_relu_gain(CpfVariant variant)
    {
        random.manual_seed(5);
        const int nodes = 3000;
        const int features = 4000;
        using var plp = new PlpConv(new GraphPropagation(TinyGraphs.Path(nodes)), features, 3, new CpfOptions { Variant = variant });
        var parameters = plp.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        if (variant == CpfVariant.Transductive)
        {
            ShouldBeXavierNormal(plp.NodeConfidenceParameter!, Math.Sqrt(2) * Math.Sqrt(2.0 / (nodes + 1)), "node confidence [N, 1]");
        }
        else
        {
            var attention = parameters.Single(p => p.Key.StartsWith("attention", StringComparison.Ordinal) && p.Key.EndsWith("weight", StringComparison.Ordinal)).Value;
            attention.shape.Should().Equal(1, features);
            ShouldBeXavierNormal(attention, Math.Sqrt(2) * Math.Sqrt(2.0 / (features + 1)), "confidence attention [1, F]");
        }
    }
}
