using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

// Two networks drawn from the global generator after the same seed must be equal: no parallel test may draw between.
[Collection(SerialCollection.Name)]
public sealed class FitAsyncTests
{
    private static DistillerOptions Options(int epochs) => new()
    {
        Epochs = epochs,
        Seed = 1,
        Optimizer = new OptimizerOptions { LearningRate = 0.1, Momentum = 0.9 },
    };

    [Fact]
    public async Task FitAsyncTrainsOnAnotherThreadAndGivesFitsResult()
    {
        using var data = SyntheticData.Blobs(128, classes: 3, seed: 2);
        random.manual_seed(3);
        using var syncNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        random.manual_seed(3);
        using var asyncNet = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var syncStudent = Student.FromModule(syncNet);
        using var asyncStudent = Student.FromModule(asyncNet);
        var expected = new Distiller(new[] { syncStudent }, new CrossEntropyLoss(), Options(2)).Fit(new DataLoader(data, 32, seed: 4));

        var distiller = new Distiller(new[] { asyncStudent }, new CrossEntropyLoss(), Options(2));
        var callerThread = Environment.CurrentManagedThreadId;
        var stepThreads = new HashSet<int>();
        distiller.Callbacks.Add(new ThreadRecorder(stepThreads));
        var result = await distiller.FitAsync(new DataLoader(data, 32, seed: 4));

        stepThreads.Should().ContainSingle().Which.Should().NotBe(callerThread);
        result.History.Select(h => h.Loss).Should().Equal(expected.History.Select(h => h.Loss));
    }

    [Fact]
    public async Task FitAsyncHonoursCancellation()
    {
        using var data = SyntheticData.Blobs(128, classes: 3, seed: 2);
        using var net = new Mlp(8, new[] { 16 }, numClasses: 3);
        using var student = Student.FromModule(net);
        using var source = new CancellationTokenSource();
        var distiller = new Distiller(new[] { student }, new CrossEntropyLoss(), Options(50));
        var counter = new CancelAfterSteps(source, 3);
        distiller.Callbacks.Add(counter);

        var run = () => distiller.FitAsync(new DataLoader(data, 16, seed: 4), cancellationToken: source.Token);

        await run.Should().ThrowAsync<OperationCanceledException>();
        counter.Steps.Should().Be(3, "the run stops at the step boundary after the token fires");

        var notStarted = () => distiller.FitAsync(new DataLoader(data, 16), cancellationToken: source.Token);
        await notStarted.Should().ThrowAsync<OperationCanceledException>();
        counter.Steps.Should().Be(3, "a token canceled before the start trains nothing");
        FluentActions.Invoking(() => { _ = distiller.FitAsync(null!); }).Should().Throw<ArgumentNullException>().WithParameterName("train");
    }

    private sealed class ThreadRecorder(HashSet<int> threads) : IDistillationCallback
    {
        public void OnStepEnd(StepInfo step) => threads.Add(Environment.CurrentManagedThreadId);
    }
}
