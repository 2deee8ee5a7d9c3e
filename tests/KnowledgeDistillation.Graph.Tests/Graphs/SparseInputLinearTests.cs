using FluentAssertions;
using KnowledgeDistillation.Graph.Graphs;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.Graphs;

public sealed class SparseInputLinearTests
{
    [Fact]
    public void Sparse_path_matches_the_dense_product_and_its_gradients()
    {
        random.manual_seed(1);
        using var layer = new SparseInputLinear(50, 4, hasBias: true, dropout: 0.5);
        layer.eval();
        using var x = (rand(8, 50, generator: new Generator(2)) > 0.9).to(ScalarType.Float32) * 2;
        using var r = randn(8, 4, generator: new Generator(3));

        (layer.call(x) * r).sum().backward();
        var sparseGrad = layer.Weight.grad!.clone();
        var biasGrad = layer.Bias!.grad!.clone();
        var dense = x.matmul(layer.Weight.t()) + layer.Bias;
        layer.Weight.grad!.zero_();
        layer.Bias.grad!.zero_();
        (dense * r).sum().backward();

        layer.call(x).allclose(dense, 1e-5, 1e-5).Should().BeTrue();
        sparseGrad.allclose(layer.Weight.grad!, 1e-5, 1e-5).Should().BeTrue();
        biasGrad.allclose(layer.Bias.grad!, 1e-5, 1e-5).Should().BeTrue();
    }

    [Fact]
    public void Dropout_on_the_non_zeros_keeps_the_expected_output()
    {
        random.manual_seed(4);
        using var layer = new SparseInputLinear(200, 3, hasBias: false, dropout: 0.5);
        using var x = (rand(1, 200, generator: new Generator(5)) > 0.5).to(ScalarType.Float32);
        layer.eval();
        var expected = layer.call(x);
        layer.train();
        using var mean = stack(Enumerable.Range(0, 2000).Select(_ => layer.call(x)).ToArray()).mean(new long[] { 0 });

        mean.allclose(expected, 0.05, 0.05).Should().BeTrue("inverted dropout keeps the expectation");
        layer.call(x).allclose(layer.call(x)).Should().BeFalse("a new mask is drawn per call");
    }
}
