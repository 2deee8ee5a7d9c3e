using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Engine;

/// <summary>A callback that implements <see cref="ILossState"/> is checkpointed with the run and restored on resume.</summary>
[Collection(SerialCollection.Name)]
public sealed class CallbackStateCheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-callback-state-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string CheckpointPath => Path.Combine(_directory, "checkpoint.kdck");

    [Fact]
    public void A_resumed_run_continues_the_callbacks_state()
    {
        var first = new EpochCounter();
        Train(epochs: 3, first);
        first.Count.Should().Be(3);

        var resumed = new EpochCounter();
        Train(epochs: 5, resumed, resumeFrom: CheckpointPath);

        resumed.Count.Should().Be(5, "the count of the first 3 epochs came back from the checkpoint and 2 more epochs ran");
        resumed.Imports.Should().Be(1);
    }

    [Fact]
    public void Resuming_without_the_stateful_callback_is_refused_with_its_name()
    {
        Train(epochs: 2, new EpochCounter());

        var act = () => Train(epochs: 3, callback: null, resumeFrom: CheckpointPath);

        act.Should().Throw<Exception>().Where(e => e.Message.Contains("epoch-counter"), "the message names the saved state the run lacks");
    }

    private void Train(int epochs, EpochCounter? callback, string? resumeFrom = null)
    {
        using var data = SyntheticData.Blobs(32, classes: 3, seed: 3);
        random.manual_seed(4);
        using var net = new Mlp(8, new[] { 8 }, numClasses: 3);
        using var student = Student.FromModule(net);
        var options = new DistillerOptions
        {
            Epochs = epochs,
            Seed = 5,
            Optimizer = new OptimizerOptions { LearningRate = 0.1 },
            Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = resumeFrom is null },
        };
        var distiller = new Distiller(new[] { student }, new CrossEntropyLoss(), options);
        if (callback is not null)
        {
            distiller.Callbacks.Add(callback);
        }

        var loader = new DataLoader(data, 16, seed: 6);
        if (resumeFrom is null)
        {
            distiller.Fit(loader);
        }
        else
        {
            distiller.Resume(resumeFrom, loader);
        }
    }

    /// <summary>Counts epochs across processes: the count is its checkpointed state.</summary>
    private sealed class EpochCounter : IDistillationCallback, ILossState
    {
        public int Count { get; private set; }

        public int Imports { get; private set; }

        public string Name => "epoch-counter";

        public void OnEpochEnd(EpochRecord record, TrainingControl control) => Count++;

        public IReadOnlyDictionary<string, Tensor> Export() => new Dictionary<string, Tensor> { ["count"] = tensor(new long[] { Count }) };

        public void Import(IReadOnlyDictionary<string, Tensor> state)
        {
            Count = (int)state["count"].item<long>();
            Imports++;
        }
    }
}
