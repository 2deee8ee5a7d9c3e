using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Data.Pipeline;

public sealed class DataPipelineTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    public void Without_transforms_the_batches_equal_the_in_memory_DataLoader(int workers, int prefetch)
    {
        using var data = SyntheticData.Blobs(53, classes: 3, dims: 6, seed: 2);
        var loader = new DataLoader(data, 8, shuffle: true, seed: 11);
        var pipeline = new DataPipeline(Rows(data), new DataPipelineOptions { BatchSize = 8, Seed = 11, Workers = workers, PrefetchBatches = prefetch });
        pipeline.BatchCount.Should().Be(loader.BatchCount);
        pipeline.ClassCount.Should().Be(3);
        for (var epoch = 0; epoch < 2; epoch++)
        {
            using var scope = NewDisposeScope();
            var expected = loader.GetBatches(epoch, CPU).ToList();
            var actual = pipeline.GetBatches(epoch, CPU).ToList();
            actual.Should().HaveCount(expected.Count);
            for (var b = 0; b < expected.Count; b++)
            {
                actual[b].Indices.data<long>().ToArray().Should().Equal(expected[b].Indices.data<long>().ToArray());
                actual[b].Targets!.dtype.Should().Be(ScalarType.Int64);
                actual[b].Targets!.data<long>().ToArray().Should().Equal(expected[b].Targets!.data<long>().ToArray());
                actual[b].Inputs.shape.Should().Equal(expected[b].Inputs.shape);
                actual[b].Inputs.data<float>().ToArray().Should().Equal(expected[b].Inputs.data<float>().ToArray());
            }
        }
    }

    [Fact]
    public void Augmented_batches_are_identical_for_any_worker_count_and_prefetch_depth_and_differ_between_epochs()
    {
        var dataset = Images(45);
        float[][] Run(int workers, int prefetch, int epoch)
        {
            var options = new DataPipelineOptions { BatchSize = 7, Seed = 3, Workers = workers, PrefetchBatches = prefetch };
            options.Transforms.Add(new RandomCrop(6, 6, padding: 2));
            options.Transforms.Add(new RandomHorizontalFlip());
            options.Transforms.Add(new Normalize([0.5, 0.4], [0.2, 0.3]));
            var pipeline = new DataPipeline(dataset, options);
            pipeline.HasRandomTransforms.Should().BeTrue();
            using var scope = NewDisposeScope();
            return pipeline.GetBatches(epoch, CPU).Select(b => b.Inputs.data<float>().ToArray()).ToArray();
        }

        var reference = Run(0, 1, 0);
        Run(1, 1, 0).Should().BeEquivalentTo(reference, o => o.WithStrictOrdering());
        Run(4, 3, 0).Should().BeEquivalentTo(reference, o => o.WithStrictOrdering());
        Run(2, 8, 0).Should().BeEquivalentTo(reference, o => o.WithStrictOrdering());
        Run(2, 2, 1).SelectMany(x => x).Should().NotEqual(reference.SelectMany(x => x), "epoch 1 has another order and other augmentations");
    }

    [Fact]
    public void Workers_build_at_most_the_prefetch_depth_ahead_of_the_consumer()
    {
        var reads = 0;
        var dataset = Dataset.FromFunction(100, i =>
        {
            Interlocked.Increment(ref reads);
            return new DataSample([i], [1], i % 2);
        }, classCount: 2);
        var pipeline = new DataPipeline(dataset, new DataPipelineOptions { BatchSize = 5, Shuffle = false, Workers = 3, PrefetchBatches = 2 });
        using var scope = NewDisposeScope();
        using var batches = pipeline.GetBatches(0, CPU).GetEnumerator();
        batches.MoveNext().Should().BeTrue();
        Thread.Sleep(300);
        Volatile.Read(ref reads).Should().BeLessThanOrEqualTo((1 + 2) * 5, "one batch taken plus two prefetched");
        Volatile.Read(ref reads).Should().BeGreaterThanOrEqualTo((1 + 2) * 5, "the workers fill the window while the consumer waits");
        var taken = 1;
        while (batches.MoveNext())
        {
            batches.Current.Indices.data<long>()[0].Should().Be(taken * 5L, "batches arrive in order");
            taken++;
        }

        taken.Should().Be(20);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void An_exception_in_a_worker_surfaces_on_the_training_thread_at_its_batch(int workers)
    {
        var dataset = Dataset.FromFunction(40, i => i == 23
            ? throw new InvalidDataException("sample 23 is damaged")
            : new DataSample([i], [1], 0), classCount: 1);
        var pipeline = new DataPipeline(dataset, new DataPipelineOptions { BatchSize = 4, Shuffle = false, Workers = workers });
        using var scope = NewDisposeScope();
        using var batches = pipeline.GetBatches(0, CPU).GetEnumerator();
        var delivered = 0;
        var act = () =>
        {
            while (batches.MoveNext())
            {
                delivered++;
            }
        };
        act.Should().Throw<InvalidDataException>().WithMessage("sample 23 is damaged");
        delivered.Should().Be(5, "batches 0-4 come before the failing batch 5");
    }

    [Fact]
    public void Cancellation_stops_the_workers_and_the_next_advance_throws()
    {
        var dataset = Dataset.FromFunction(1000, i =>
        {
            Thread.Sleep(1);
            return new DataSample([i], [1]);
        });
        var pipeline = new DataPipeline(dataset, new DataPipelineOptions { BatchSize = 10, Workers = 2, PrefetchBatches = 4 });
        using var cts = new CancellationTokenSource();
        using var scope = NewDisposeScope();
        using var batches = pipeline.GetBatches(0, CPU, cts.Token).GetEnumerator();
        batches.MoveNext().Should().BeTrue();
        batches.Current.Targets.Should().BeNull("the samples have no labels");
        cts.Cancel();
        var act = () => batches.MoveNext();
        act.Should().Throw<OperationCanceledException>();
    }

    [Fact]
    public void Inconsistent_samples_and_bad_options_are_named()
    {
        var shapes = Dataset.FromFunction(6, i => new DataSample(new float[i < 3 ? 4 : 6], [i < 3 ? 4 : 6], 0), classCount: 1);
        var act = () => Drain(new DataPipeline(shapes, new DataPipelineOptions { BatchSize = 6, Shuffle = false, Workers = 0 }));
        act.Should().Throw<InvalidDataException>().WithMessage("Sample 3 has shape [6]*sample 0*[4]*same shape*");

        var labels = Dataset.FromFunction(4, i => new DataSample([0f], [1], i == 2 ? 5 : 0), classCount: 2);
        act = () => Drain(new DataPipeline(labels, new DataPipelineOptions { BatchSize = 4, Shuffle = false, Workers = 1 }));
        act.Should().Throw<InvalidDataException>().WithMessage("Sample 2 has label 5, outside*0..1*");

        var bad = () => new DataPipeline(labels, new DataPipelineOptions { Workers = -1 });
        bad.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Workers");
        bad = () => new DataPipeline(labels, new DataPipelineOptions { PrefetchBatches = 0 });
        bad.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("PrefetchBatches");
        bad = () => new DataPipeline(labels, new DataPipelineOptions { BatchSize = 8, DropLast = true });
        bad.Should().Throw<ArgumentException>().WithMessage("*4 samples and batch size 8*");
    }

    [Fact]
    public void Samples_and_options_are_checked_with_the_argument_named()
    {
        var shape = () => new DataSample(new float[5], [2, 3]);
        shape.Should().Throw<ArgumentException>().WithMessage("*shape [2, 3] needs 6 values; got 5*").WithParameterName("values");
        var label = () => new DataSample(new float[1], [1], -1);
        label.Should().Throw<ArgumentException>().WithParameterName("label");
        var crop = () => new RandomCrop(0, 4);
        crop.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("height");
        var flip = () => new RandomHorizontalFlip(1.5);
        flip.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("probability");
        var cifar = () => new CifarOptions { TrainLimit = 0 }.Validate();
        cifar.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("TrainLimit");
        var nullTransform = new DataPipelineOptions();
        nullTransform.Transforms.Add(null!);
        var pipeline = () => new DataPipeline(Images(3), nullTransform);
        pipeline.Should().Throw<ArgumentException>().WithParameterName("Transforms");
    }

    [Fact]
    public void FromEnumerable_keeps_the_samples_and_checks_them()
    {
        var dataset = Dataset.FromEnumerable(Enumerable.Range(0, 5).Select(i => new DataSample([i, -i], [2], i % 3)));
        dataset.Count.Should().Be(5);
        dataset.ClassCount.Should().Be(3);
        dataset.Get(4).Values.Should().Equal(4f, -4f);
        dataset.Get(4).Values[0] = 99;
        dataset.Get(4).Values[0].Should().Be(4f, "each read is a new sample");

        var mixed = () => Dataset.FromEnumerable([new DataSample([1f], [1], 0), new DataSample([1f], [1])]);
        mixed.Should().Throw<ArgumentException>().WithMessage("Sample 1 has no label*");
        var empty = () => Dataset.FromEnumerable([]);
        empty.Should().Throw<ArgumentException>().WithMessage("*no samples*");
    }

    /// <summary>The rows of an in-memory dataset, read one by one (an independent path to the same values).</summary>
    internal static IDataset Rows(TensorDataset data)
    {
        var inputs = data.Inputs.data<float>().ToArray();
        var labels = data.Targets!.to(ScalarType.Int64).data<long>().ToArray();
        var width = (int)(inputs.Length / data.Count);
        return Dataset.FromFunction(data.Count, i => new DataSample(inputs.AsSpan((int)i * width, width).ToArray(), [width], labels[i]), data.ClassCount);
    }

    internal static IDataset Images(int count) =>
        Dataset.FromFunction(count, i =>
        {
            var random = new Random((int)i);
            return new DataSample(Enumerable.Range(0, 2 * 6 * 6).Select(_ => (float)random.NextDouble()).ToArray(), [2, 6, 6], i % 4);
        }, classCount: 4);

    private static void Drain(DataPipeline pipeline)
    {
        using var scope = NewDisposeScope();
        foreach (var _ in pipeline.GetBatches(0, CPU))
        {
        }
    }
}
