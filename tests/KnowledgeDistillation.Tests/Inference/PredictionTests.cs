using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Inference;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Inference;

public sealed class PredictionTests
{
    [Fact]
    public void PredictBatchesInEvalModeWithoutGradientsAndRestoresTheMode()
    {
        random.manual_seed(41);
        using var net = SmallCnn.Teacher(); // dropout and BatchNorm: eval mode matters
        OnnxRuntimeRunner.RandomiseNormalisation(net);
        net.train();
        using var inputs = randn(10, 1, 28, 28);
        using var expected = OnnxRuntimeRunner.EvalForward(net, inputs);

        using var logits = net.Predict(inputs, new PredictionOptions { BatchSize = 3 });

        net.training.Should().BeTrue("Predict restores the model's mode");
        logits.requires_grad.Should().BeFalse();
        logits.shape.Should().Equal(10, 10);
        logits.allclose(expected, rtol: 1e-5, atol: 1e-6).Should().BeTrue("batches of 3 give the same logits as one eval-mode pass");

        using var probabilities = net.Predict(inputs, new PredictionOptions { BatchSize = 4, Output = PredictionOutput.Probabilities });
        probabilities.allclose(nn.functional.softmax(expected, 1), rtol: 1e-5, atol: 1e-6).Should().BeTrue();
        using var classes = net.Predict(inputs, new PredictionOptions { Output = PredictionOutput.ClassIndices });
        classes.dtype.Should().Be(ScalarType.Int64);
        classes.data<long>().ToArray().Should().Equal(expected.argmax(1).data<long>().ToArray());
    }

    [Fact]
    public void PredictOverABatchSourceMatchesTheTensorOverload()
    {
        random.manual_seed(42);
        using var data = SyntheticData.Blobs(50, classes: 3, dims: 8, seed: 3);
        using var net = new Mlp(8, new[] { 16 }, 3);
        using var direct = net.Predict(data.Inputs);
        using var viaSource = net.Predict(new DataLoader(data, batchSize: 16, shuffle: false), new PredictionOptions { Device = "cpu" });
        viaSource.shape.Should().Equal(50, 3);
        viaSource.allclose(direct, rtol: 1e-5, atol: 1e-6).Should().BeTrue();

        using var student = Student.FromModule(net);
        using var participantClasses = student.Predict(new DataLoader(data, batchSize: 7, shuffle: false), new PredictionOptions { Output = PredictionOutput.ClassIndices });
        participantClasses.data<long>().ToArray().Should().Equal(direct.argmax(1).data<long>().ToArray());
    }

    [Fact]
    public void PredictDoesNotLeakTensors()
    {
        random.manual_seed(43);
        using var net = new Mlp(8, new[] { 16 }, 3);
        using var inputs = randn(40, 8);
        using (net.Predict(inputs, new PredictionOptions { BatchSize = 5 }))
        {
        }

        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 5; i++)
        {
            using var result = net.Predict(inputs, new PredictionOptions { BatchSize = 5 });
        }

        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before);
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        using var net = new Mlp(8, new[] { 4 }, 3);
        using var inputs = randn(4, 8);
        FluentActions.Invoking(() => net.Predict(inputs, new PredictionOptions { BatchSize = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*BatchSize*");
        FluentActions.Invoking(() => net.Predict(zeros(0, 8)))
            .Should().Throw<ArgumentException>().WithParameterName("inputs").WithMessage("*[0, 8]*");
        FluentActions.Invoking(() => net.Predict(inputs, new PredictionOptions { Device = "tpu" }))
            .Should().Throw<ArgumentException>().WithParameterName("Device");
        FluentActions.Invoking(() => net.Predict((Tensor)null!)).Should().Throw<ArgumentNullException>().WithParameterName("inputs");
        FluentActions.Invoking(() => ((nn.Module<Tensor, Tensor>)null!).Predict(inputs)).Should().Throw<ArgumentNullException>().WithParameterName("model");
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();
        FluentActions.Invoking(() => net.Predict(inputs, cancellationToken: canceled.Token)).Should().Throw<OperationCanceledException>();
        net.training.Should().BeTrue();
    }
}
