using FluentAssertions;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data.Pipeline;

[Collection(SerialCollection.Name)]
public sealed class PipelineTrainingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(2, 10)] // mid-epoch (7 batches per epoch): the second epoch's fourth batch
    [InlineData(0, 17)] // synchronous loading, third epoch
    public void An_augmented_run_stopped_mid_epoch_and_resumed_equals_the_uninterrupted_run_bit_for_bit(int workers, int cancelAtStep)
    {
        var uninterrupted = Train(workers);
        Train(workers == 0 ? 2 : 0).Should().BeEquivalentTo(uninterrupted, o => o.WithStrictOrdering(), "prefetching does not change the data");

        using var cts = new CancellationTokenSource();
        var act = () => Train(workers, cts, cancelAtStep, checkpoints: _directory);
        act.Should().Throw<OperationCanceledException>();
        var resumed = Train(workers, resumeFrom: Path.Combine(_directory, "checkpoint.kdck"), checkpoints: _directory);

        resumed.Should().Equal(uninterrupted);
    }

    [Fact]
    public void Disposing_the_batches_mid_epoch_disposes_every_tensor_the_workers_built()
    {
        var pipeline = new DataPipeline(DataPipelineTests.Images(200), new DataPipelineOptions { BatchSize = 8, Workers = 3, PrefetchBatches = 6 });
        using (var warm = NewDisposeScope())
        {
            pipeline.GetBatches(0, CPU).Take(2).ToList();
        }

        Thread.Sleep(100);
        var before = LiveTensors();
        for (var round = 0; round < 5; round++)
        {
            using var scope = NewDisposeScope();
            using var batches = pipeline.GetBatches(round, CPU).GetEnumerator();
            batches.MoveNext().Should().BeTrue();
            batches.MoveNext().Should().BeTrue();
            Thread.Sleep(50); // let the workers fill the window
        }

        LiveTensors().Should().Be(before, "batches built but never taken are disposed with the enumerator");
    }

    /// <summary>Live tensors once tensors that earlier (parallel) tests dropped without disposing are finalised, so the
    /// finaliser thread cannot change the count between the two readings.</summary>
    private static long LiveTensors()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Tensor.TotalCount;
    }

    [Fact]
    public void A_cached_teacher_with_random_transforms_is_refused_before_the_first_step_with_a_clear_message()
    {
        var dataset = DataPipelineTests.Images(20);
        using var teacherNet = Net(seed: 1);
        using var studentNet = Net(seed: 2);
        using var cached = Teacher.FromModule(teacherNet).WithOutputCache(dataset.Count);
        using var student = Student.FromModule(studentNet);
        var options = new DataPipelineOptions { BatchSize = 5 };
        options.Transforms.Add(new RandomHorizontalFlip());
        using var distiller = new Distiller(new IDistillationModel[] { cached, student }, Loss.Hinton(4, 0.9), new DistillerOptions { Epochs = 1 });
        var act = () => distiller.Fit(new DataPipeline(dataset, options));
        act.Should().Throw<ArgumentException>()
            .WithMessage("*Teacher 'teacher' caches its outputs*random transforms (RandomHorizontalFlip)*run the teacher every step*")
            .And.ParamName.Should().Be("train");
        cached.CachedSamples.Should().Be(0, "nothing ran");

        var plain = new DataPipelineOptions { BatchSize = 5 };
        plain.Transforms.Add(new Normalize([0.5], [0.25]));
        var deterministic = () => distiller.Fit(new DataPipeline(dataset, plain));
        deterministic.Should().NotThrow("deterministic transforms give the same inputs every epoch");
    }

    private static double[] Train(int workers, CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null, string? checkpoints = null)
    {
        random.manual_seed(resumeFrom is null ? 4 : 99);
        using var teacherNet = Net(seed: 1);
        using var studentNet = Net(seed: 2);
        using var teacher = Teacher.FromModule(teacherNet);
        using var student = Student.FromModule(studentNet);
        var options = new DataPipelineOptions { BatchSize = 7, Seed = 5, Workers = workers, PrefetchBatches = 3 };
        options.Transforms.Add(new RandomCrop(6, 6, padding: 2));
        options.Transforms.Add(new RandomHorizontalFlip());
        var pipeline = new DataPipeline(DataPipelineTests.Images(45), options);
        var distillerOptions = new DistillerOptions
        {
            Epochs = 3,
            Seed = 5,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.1 },
            Checkpoint = new CheckpointOptions { Directory = checkpoints },
        };
        using var distiller = new Distiller(new IDistillationModel[] { teacher, student }, Loss.Hinton(4, 0.9), distillerOptions);
        if (cancel is not null)
        {
            distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
        }

        var result = resumeFrom is null ? distiller.Fit(pipeline, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, pipeline);
        return result.History.SelectMany(h => h.LossParts.OrderBy(p => p.Key).Select(p => p.Value).Prepend(h.Loss)).ToArray();
    }

    private static nn.Module<Tensor, Tensor> Net(int seed)
    {
        random.manual_seed(seed);
        return nn.Sequential(nn.Flatten(), nn.Linear(72, 16), nn.ReLU(), nn.Linear(16, 4));
    }
}
