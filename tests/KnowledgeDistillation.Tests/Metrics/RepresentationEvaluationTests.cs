using FluentAssertions;
using KnowledgeDistillation.Metrics;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Metrics;

[Collection(SerialCollection.Name)]
public sealed class RepresentationEvaluationTests
{
    [Fact]
    public void Knn_accuracy_hand_case()
    {
        using var scope = NewDisposeScope();
        // Training points on the two axes (class 0 along x, class 1 along y); test points near each axis, one mislabelled.
        var train = tensor(new float[] { 1, 0, 2, 0.1f, 0, 1, 0.1f, 3 }, new long[] { 4, 2 });
        var labels = tensor(new long[] { 0, 0, 1, 1 });
        var test = tensor(new float[] { 5, 0.2f, 0.3f, 4, 1, 0 }, new long[] { 3, 2 });
        var expected = tensor(new long[] { 0, 1, 1 });
        KnnAccuracy.Compute(train, labels, test, expected, neighbours: 1).Should().BeApproximately(2.0 / 3, 1e-12);
        KnnAccuracy.Compute(train, labels, test, expected, neighbours: 2, temperature: double.PositiveInfinity).Should().BeApproximately(2.0 / 3, 1e-12);

        // k = 3 with a plain vote: the third neighbour of each test point is of the other class, so the majority stays.
        KnnAccuracy.Compute(train, labels, test, expected, neighbours: 3, temperature: double.PositiveInfinity, chunk: 1).Should().BeApproximately(2.0 / 3, 1e-12);
    }

    [Fact]
    public void Linear_probe_separates_separable_features_and_is_deterministic()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(3);
        var train = randn(new long[] { 200, 5 }, generator: generator);
        var labels = (train.select(1, 0) + train.select(1, 2)).gt(0).to_type(ScalarType.Int64);
        var test = randn(new long[] { 100, 5 }, generator: generator);
        var expected = (test.select(1, 0) + test.select(1, 2)).gt(0).to_type(ScalarType.Int64);
        var options = new LinearProbeOptions { Epochs = 60, BatchSize = 32, Seed = 1 };
        var result = LinearProbe.Fit(train, labels, test, expected, options);
        result.TestAccuracy.Should().BeGreaterThan(0.9);
        result.TrainAccuracy.Should().BeGreaterThan(0.9);
        LinearProbe.Fit(train, labels, test, expected, options).Should().Be(result, "the probe has its own seeded generator");
    }

    [Fact]
    public void Frozen_features_are_extracted_in_eval_mode_without_gradient()
    {
        using var scope = NewDisposeScope();
        using var encoder = nn.Sequential(("fc", nn.Linear(3, 2)), ("drop", nn.Dropout(0.9)));
        encoder.train();
        var inputs = randn(7, 3);
        var features = FrozenFeatures.Extract(encoder, inputs, batchSize: 3);
        features.shape.Should().Equal(7, 2);
        features.requires_grad.Should().BeFalse();
        features.Should().NotBeNull();
        FrozenFeatures.Extract(encoder, inputs, batchSize: 7).sub(features).abs().max().item<float>().Should().BeLessThan(1e-6f, "eval mode: dropout is off");
        encoder.training.Should().BeTrue("the mode is restored");
    }

    [Fact]
    public void Bad_input_is_refused()
    {
        using var scope = NewDisposeScope();
        var train = randn(4, 2);
        var labels = tensor(new long[] { 0, 1, 0, 1 });
        ((Action)(() => KnnAccuracy.Compute(train, labels, randn(2, 3), tensor(new long[] { 0, 1 })))).Should().Throw<ArgumentException>().WithMessage("*one width*");
        ((Action)(() => KnnAccuracy.Compute(train, labels.to_type(ScalarType.Float32), train, labels))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "trainLabels");
        ((Action)(() => KnnAccuracy.Compute(train, labels, train, labels, neighbours: 5))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*[1, 4]*");
        ((Action)(() => LinearProbe.Fit(train, labels, train, labels, new LinearProbeOptions { Epochs = 0 }))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => FrozenFeatures.Extract(nn.Linear(2, 2), zeros(0, 2)))).Should().Throw<ArgumentException>();
    }
}
