using FluentAssertions;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using KnowledgeDistillation.Tests.Support;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Tests.Losses;

/// <summary>
/// Queues, momentum encoders and memory banks resume bit for bit after a stop mid-epoch and at an epoch boundary: a run
/// that is cancelled and resumed ends with the same state and history as the uninterrupted run (the resumed run starts
/// from other weights, so only the checkpoint can make them equal).
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SslResumeTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kd-ssl-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string, int> Cases() => new()
    {
        { "moco", 5 }, { "moco", 8 }, { "seed", 5 }, { "compress", 6 }, { "rekd", 5 }, { "rekd", 8 }, { "hkd", 5 }, { "hkd", 8 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void State_resumes_bit_for_bit_after_a_stop(string method, int cancelAtStep)
    {
        var (uninterrupted, state) = Train(method);
        state.Values.Should().OnlyContain(v => v.Length > 0);

        using var cancel = new CancellationTokenSource();
        var act = () => Train(method, cancel, cancelAtStep);
        act.Should().Throw<OperationCanceledException>();
        var (resumed, resumedState) = Train(method, resumeFrom: Path.Combine(_directory, "checkpoint.kdck"));

        resumedState.Keys.Should().BeEquivalentTo(state.Keys);
        foreach (var (key, values) in state)
        {
            resumedState[key].Should().Equal(values, $"{method} state '{key}' after the resumed run equals the uninterrupted run's bit for bit");
        }

        Losses(resumed).Should().Equal(Losses(uninterrupted));
    }

    [Theory]
    [InlineData("moco")]
    [InlineData("seed")]
    [InlineData("rekd")]
    [InlineData("hkd")]
    public void No_tensor_outlives_its_step(string method)
    {
        var counts = new LiveTensorCounts();
        Train(method, epochs: 5, extra: counts);
        counts.AtEpochEnd.Skip(1).Should().AllBeEquivalentTo(counts.AtEpochEnd[1], "epochs 2-5 end with the same live tensors: queues, banks and pending embeddings are replaced, not accumulated");
    }

    private (FitResult Result, Dictionary<string, double[]> State) Train(string method, CancellationTokenSource? cancel = null, int cancelAtStep = -1, string? resumeFrom = null, int epochs = 3, IDistillationCallback? extra = null)
    {
        var owned = new List<IDisposable>();
        T Own<T>(T value)
            where T : IDisposable
        {
            owned.Add(value);
            return value;
        }

        try
        {
            random.manual_seed(4);
            var teacherNet = Own(nn.Sequential(("fc", nn.Linear(8, 5))));
            random.manual_seed(resumeFrom is null ? 40 : 99);
            var studentNet = Own(nn.Sequential(("fc", nn.Linear(8, 4))));
            var keyNet = Own(nn.Sequential(("fc", nn.Linear(8, 4))));
            random.manual_seed(5);
            var narrowTeacherNet = Own(nn.Sequential(("fc", nn.Linear(8, 4))));
            TensorDataset data;
            IDistillationModel[] participants;
            IDistillationLoss loss;
            if (method == "hkd")
            {
                data = Own(SyntheticData.Blobs(32, classes: 3, seed: 3));
                random.manual_seed(4);
                var teacherMlp = Own(new Mlp(8, new[] { 12 }, numClasses: 3));
                random.manual_seed(resumeFrom is null ? 40 : 99);
                var studentMlp = Own(new Mlp(8, new[] { 6 }, numClasses: 3));
                participants = new IDistillationModel[] { Own(Teacher.FromModule(teacherMlp)), Own(Student.FromModule(studentMlp)) };
                var sampler = new ClassAwareCrdNegativeSampler(data.Targets!.data<long>().ToArray(), seed: 21);
                var hkd = Own(Loss.Hkd(new FeaturePair("layers.relu1", "layers.relu1"), Own(new CrdEmbedding(6, 4)), Own(new CrdEmbedding(12, 4)), Own(new HkdGraphEncoder(4)), Own(new HkdGraphEncoder(4)), 32, negatives: 8, neighbours: 4, seed: 21, sampler: sampler));
                loss = Recipes.Hkd(hkd, kdWeight: 1).Stages.Single().Loss;
            }
            else
            {
                random.manual_seed(7);
                data = Own(new TensorDataset(randn(32, 2, 8), null));
                var student = Own(Student.Create("student", studentNet, b => TwoViews.EncodeView(studentNet, b, 0, "z")));
                var teacher = Own(Teacher.Create("teacher", teacherNet, b => TwoViews.EncodeView(teacherNet, b, 0, "z")));
                switch (method)
                {
                    case "moco":
                        participants = new IDistillationModel[] { student };
                        loss = Own(Loss.Moco("z", new MomentumEncoder(studentNet, keyNet, 0.9), 4, 32, queueSize: 12, seed: 3));
                        break;
                    case "rekd":
                        participants = new IDistillationModel[] { student, teacher };
                        loss = Own(Loss.Rekd("z", "z", new MomentumEncoder(studentNet, keyNet, 0.9), 4, 5, 32, new NearestAnchorRelation(2), queueSize: 12, seed: 3));
                        break;
                    default:
                        var teacher4 = Own(Teacher.Create("teacher", narrowTeacherNet, b => TwoViews.EncodeView(narrowTeacherNet, b, 1, "z")));
                        participants = new IDistillationModel[] { student, teacher4 };
                        loss = method == "seed" ? Own(Loss.Seed("z", 4, 32, queueSize: 12, seed: 3)) : Own(Loss.Compress("z", 4, 32, queueSize: 12, seed: 3));
                        break;
                }
            }

            var options = new DistillerOptions { Epochs = epochs, Seed = 5, Checkpoint = new CheckpointOptions { Directory = _directory, Overwrite = true } };
            using var distiller = new Distiller(participants, loss, options);
            if (cancel is not null)
            {
                distiller.Callbacks.Add(new CancelAfterSteps(cancel, cancelAtStep));
            }

            if (extra is not null)
            {
                distiller.Callbacks.Add(extra);
            }

            var loader = new DataLoader(data, 8, seed: 6);
            var result = resumeFrom is null ? distiller.Fit(loader, cancellationToken: cancel?.Token ?? default) : distiller.Resume(resumeFrom, loader);
            var state = Terms(loss).SelectMany(t => t.State).SelectMany(s => s.Export().Select(p => ($"{s.Name}/{p.Key}", p.Value)))
                .ToDictionary(p => p.Item1, p => p.Value.detach().cpu().to_type(ScalarType.Float64).reshape(-1).data<double>().ToArray());
            return (result, state);
        }
        finally
        {
            owned.Reverse();
            foreach (var item in owned)
            {
                item.Dispose();
            }
        }
    }

    private static IEnumerable<IDistillationLoss> Terms(IDistillationLoss loss) => loss switch
    {
        SumLoss sum => sum.Terms.SelectMany(Terms),
        WeightedLoss weighted => Terms(weighted.Inner),
        _ => new[] { loss },
    };

    private sealed class LiveTensorCounts : IDistillationCallback
    {
        public List<long> AtEpochEnd { get; } = new();

        public void OnEpochEnd(EpochRecord record, TrainingControl control) => AtEpochEnd.Add(Tensor.TotalCount);
    }

    private static double[] Losses(FitResult result) =>
        result.History.SelectMany(h => h.LossParts.OrderBy(p => p.Key).Select(p => p.Value).Prepend(h.Loss)).ToArray();
}
