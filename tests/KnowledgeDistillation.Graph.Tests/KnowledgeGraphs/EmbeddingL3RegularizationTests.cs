using FluentAssertions;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Graph.Tests.KnowledgeGraphs;

/// <summary>NeuralKG's full-table L3 regularisation: value against a double-precision sum, gradient 3λ·x·|x|, bad weights.</summary>
public sealed class EmbeddingL3RegularizationTests
{
    [Fact]
    public void The_value_is_lambda_times_the_sum_of_cubed_magnitudes_of_both_tables()
    {
        random.manual_seed(5);
        using var model = new ComplEx(7, 3, 4, initRange: 1.5);
        var entities = model.EntityEmbeddings.detach().to_type(ScalarType.Float64).data<double>().ToArray();
        var relations = model.RelationEmbeddings.detach().to_type(ScalarType.Float64).data<double>().ToArray();
        var expected = 2e-3 * (entities.Sum(x => Math.Pow(Math.Abs(x), 3)) + relations.Sum(x => Math.Pow(Math.Abs(x), 3)));

        using var value = EmbeddingL3Regularization.Value(model, 2e-3);

        value.item<float>().Should().BeApproximately((float)expected, (float)(1e-5 * expected));
        entities.Length.Should().Be(7 * 8, "ComplEx stores real and imaginary parts: both are regularised");
    }

    [Fact]
    public void The_gradient_is_three_lambda_x_abs_x()
    {
        random.manual_seed(6);
        using var model = new DistMult(5, 2, 3, initRange: 2);
        using var value = EmbeddingL3Regularization.Value(model, 0.5);
        value.backward();

        foreach (var table in new[] { model.EntityEmbeddings, model.RelationEmbeddings })
        {
            var x = table.detach().data<float>().ToArray();
            var g = table.grad!.data<float>().ToArray();
            for (var i = 0; i < x.Length; i++)
            {
                g[i].Should().BeApproximately(3 * 0.5f * x[i] * Math.Abs(x[i]), 1e-5f);
            }
        }
    }

    [Fact]
    public void The_gradient_matches_finite_differences_in_double_precision()
    {
        random.manual_seed(7);
        using var model = new DistMult(4, 2, 3, initRange: 1);
        model.to(ScalarType.Float64);
        using var value = EmbeddingL3Regularization.Value(model, 0.1);
        value.backward();
        var analytic = model.EntityEmbeddings.grad!.data<double>().ToArray();
        using var noGrad = no_grad();
        var flat = model.EntityEmbeddings.view(-1);
        const double h = 1e-6;
        for (var i = 0; i < analytic.Length; i++)
        {
            var x = flat[i].item<double>();
            flat[i] = x + h;
            var up = EmbeddingL3Regularization.Value(model, 0.1).item<double>();
            flat[i] = x - h;
            var down = EmbeddingL3Regularization.Value(model, 0.1).item<double>();
            flat[i] = x;
            analytic[i].Should().BeApproximately((up - down) / (2 * h), 1e-7);
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1e-6)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_weight_that_is_not_a_positive_number_is_refused(double weight)
    {
        using var model = new DistMult(4, 2, 3);
        var act = () => new EmbeddingL3Regularization(model, weight);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("weight");
    }
}
