using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation;
using KnowledgeDistillation.Caching;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Metrics;
using KnowledgeDistillation.Models;
using TorchSharp;
using static TorchSharp.torch;

// Graph distillation from several self-supervised video teachers (Zhang and Peng, IJCAI 2018) on Moving Fashion-MNIST.
// Teachers: four 3D CNNs, each pre-trained on one pretext task (frame order, temporal coherence, rotation, clip-level
// contrastive) and fine-tuned on
// the labels. Student: a small 2D CNN with temporal average pooling. Methods: the student alone, KD from each single teacher,
// averaged multi-teacher KD, graph distillation with the logits graph, the representation graph, or both.
// Usage: dotnet run -c Release --project samples/VideoGraphDistillation -- [--train 2000] [--test 1000] [--frames 6]
//   [--pretext-epochs 2] [--finetune-epochs 2] [--student-epochs 3] [--seeds 1] [--first-seed 0] [--batch 32] [--threads 1]
//   [--methods student,kd-t0,...] [--results DIR] [--data DIR] [--schedule constant|cosine] [--contrastive-temperature 0.2]
//   [--teachers DIR] [--teacher-ids 0,1] [--teachers-only] [--temperature 4] [--logits-weight T²] [--representation-weight 1]
//   [--representation-edge-entropy 0] [--fixed-representation-edges] [--representation-matching mmd|squared-error]
//   [--pooled-dimension 256]
//   | --bench-step [--steps 20] | --bench-layers [--steps 20]
var settings = Settings.Parse(args);
using var threads = new ThreadScope(settings.Threads);
if (settings.BenchStep)
{
    StepBenchmark.Run(settings);
    return;
}

if (settings.BenchLayers)
{
    LayerBenchmark.Run(settings);
    return;
}

var train = MovingFashionMnist.Load(train: true, settings.Frames, seed: 1, count: settings.Train, directory: settings.Data);
var test = MovingFashionMnist.Load(train: false, settings.Frames, seed: 2, count: settings.Test, directory: settings.Data);
Console.WriteLine($"Moving Fashion-MNIST: {train.Count} training and {test.Count} test clips of {string.Join("x", train.ClipShape)}; threads {settings.Threads}");
DataPipeline Pipeline(IDataset data, int seed, bool shuffle, params ISampleTransform[] transforms)
{
    var options = new DataPipelineOptions { BatchSize = settings.Batch, Seed = seed, Shuffle = shuffle, Workers = 1 };
    foreach (var t in transforms)
    {
        options.Transforms.Add(t);
    }

    return new DataPipeline(data, options);
}

DistillerOptions Options(int epochs, int seed) => new()
{
    Epochs = epochs,
    Seed = seed,
    Threads = settings.Threads,
    Optimizer = new OptimizerOptions { LearningRate = 0.05, Momentum = 0.9, WeightDecay = 5e-4 },
    LearningRateSchedule = new LearningRateScheduleOptions { Kind = settings.Schedule },
};

var testSource = Pipeline(test, 0, shuffle: false);
double Accuracy(IDistillationModel model) => Evaluation.Run(model, testSource, CPU)["accuracy"];

// Teachers: pretext pre-training, then fine-tuning on the labels (seed 100 + k, fixed across student seeds). With --teachers DIR
// a teacher whose weights are there is loaded instead of trained, and a trained one is saved there (so teachers can be trained
// in separate processes, --teacher-ids, and shared by student runs).
var tasks = new[] { "FrameOrder", "TemporalCoherence", "Rotation", "ClipContrastive" };
var teachers = new List<(string Name, VideoCnn3d Net, Teacher Participant)>();
var rows = new List<Row>();
for (var k = 0; k < tasks.Length; k++)
{
    var clock = Stopwatch.StartNew();
    var net = new VideoCnn3d(settings.TeacherChannels, 10);
    var saved = settings.TeachersDirectory is { } teacherDir ? Path.Combine(teacherDir, $"t{k}-{tasks[k]}.bin") : null;
    if (saved is not null && File.Exists(saved))
    {
        net.load(saved);
        Console.WriteLine($"teacher t{k}: loaded {saved}");
    }
    else if (settings.TeacherIds is { } ids && !ids.Contains(k))
    {
        net.Dispose();
        continue;
    }
    else
    {
        random.manual_seed(100 + k);
        PretrainAndTransfer(k, tasks[k], net);
        using (var finetuneModel = Student.FromModule(net))
        using (var finetune = new Distiller(new IDistillationModel[] { finetuneModel }, new CrossEntropyLoss(), Options(settings.FinetuneEpochs, 200 + k)))
        {
            var history = finetune.Fit(Pipeline(train, 200 + k, shuffle: true), testSource).History;
            Console.WriteLine($"teacher t{k} fine-tuning, test accuracy per epoch: {string.Join(" ", history.Select(h => h.EvalMetrics.TryGetValue("student", out var m) ? $"{100 * m["accuracy"]:F1}" : "-"))}");
        }

        if (saved is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(saved)!);
            net.save(saved);
        }
    }

    var participant = Teacher.FromModule(net, $"t{k}");
    var accuracy = Accuracy(participant);
    Console.WriteLine($"teacher t{k} ({tasks[k]} + fine-tuning): test accuracy {accuracy:P2}, {clock.Elapsed.TotalSeconds:F0} s");
    rows.Add(new Row($"teacher-t{k}-{tasks[k]}", 0, accuracy, Parameters(net), InferenceMsPerClip(net), clock.Elapsed.TotalSeconds));
    teachers.Add(($"t{k}", net, participant));
}

if (settings.TeachersOnly)
{
    WriteResults();
    return;
}

// Every run reads the same teachers on un-augmented clips: cache their logits and embeddings once (offline distillation), so a
// student step costs the student's work only. The outputs are the teachers' (eval mode), bit for bit.
var cached = teachers.Select(t => new CachedTeacher(t.Participant, train.Count)).ToArray();
foreach (var c in cached)
{
    c.CaptureFeatures(new[] { "embedding" });
}

var names = teachers.Select(t => t.Name).ToArray();
var methods = settings.Methods ?? names.Select(n => $"kd-{n}").Prepend("student").Concat(new[] { "mt-kd-average", "graph-logits", "graph-representation", "graph-both" }).ToArray();
foreach (var seed in Enumerable.Range(settings.FirstSeed, settings.Seeds))
{
    foreach (var method in methods)
    {
        var clock = Stopwatch.StartNew();
        random.manual_seed(seed);
        using var net = new FrameCnn(settings.StudentChannels, 10);
        using var student = Student.FromModule(net);
        var participants = new List<IDistillationModel> { student };
        DistillationRecipe recipe;
        (LogitsGraphLoss? Logits, RepresentationGraphLoss? Representation) graphs = (null, null);
        if (method == "student")
        {
            recipe = DistillationRecipe.FromLoss("student", new CrossEntropyLoss());
        }
        else if (method.StartsWith("kd-", StringComparison.Ordinal))
        {
            participants.Add(cached.Single(t => t.Name == method[3..]));
            recipe = Recipes.Hinton(settings.Temperature, 0.9, teacher: method[3..]);
        }
        else if (method == "mt-kd-average")
        {
            participants.AddRange(cached);
            recipe = Recipes.MultiTeacher(Loss.MultiTeacherKD(names, temperature: settings.Temperature), alpha: 0.9);
        }
        else
        {
            participants.AddRange(cached);
            var logits = method is "graph-logits" or "graph-both"
                ? Loss.LogitsGraph(names, temperature: settings.Temperature)
                : null;
            var representation = method is "graph-representation" or "graph-both"
                ? Loss.RepresentationGraph(names, teachers.Select(t => t.Net.EmbeddingDimension).ToArray(), net.EmbeddingDimension, pooledDimension: settings.PooledDimension,
                    matching: settings.RepresentationMatching, learnEdges: !settings.FixedRepresentationEdges, edgeEntropyWeight: settings.RepresentationEdgeEntropy, seed: seed)
                : null;
            var logitsWeight = settings.LogitsWeight ?? settings.Temperature * settings.Temperature; // KD's T² scale by default
            recipe = Recipes.GraphDistillation(logits, representation, logitsWeight, settings.RepresentationWeight);
            graphs = (logits, representation);
        }

        string notes;
        using (var distiller = new Distiller(participants, recipe, Options(settings.StudentEpochs, seed)))
        {
            var history = distiller.Fit(Pipeline(train, seed, shuffle: true)).History;
            notes = GraphWeights(graphs.Logits, graphs.Representation);    // before the distiller disposes its losses
            // The terms' scales in the last epoch (means over its steps), to compare CE with the graph terms.
            var parts = string.Join(" ", history[^1].LossParts.Where(p => !p.Key.Contains(".weight-", StringComparison.Ordinal)).Select(p => $"{p.Key}={p.Value:G4}"));
            notes = notes.Length > 0 ? $"{notes}; last-epoch loss {parts}" : $"last-epoch loss {parts}";
        }

        var accuracy = Accuracy(student);
        Console.WriteLine($"seed {seed} {method,-22} test accuracy {accuracy:P2} ({clock.Elapsed.TotalSeconds:F0} s){(notes.Length > 0 ? "; " + notes : string.Empty)}");
        rows.Add(new Row(method, seed, accuracy, Parameters(net), InferenceMsPerClip(net), clock.Elapsed.TotalSeconds, notes));
    }
}

WriteResults();

foreach (var c in cached)
{
    c.Dispose();
}

foreach (var t in teachers)
{
    t.Participant.Dispose();
    t.Net.Dispose();
}

// Pre-trains a network of the teacher's architecture on pretext task k and moves its backbone into net (the classifier stays new).
void PretrainAndTransfer(int k, string task, VideoCnn3d net)
{
    if (task == "ClipContrastive")
    {
        // Two clips of one video (windows of frames - 2 frames at independent offsets, each with its own random shift) are
        // positives, the batch's other clips negatives (NT-Xent); the classifier (32 outputs) is the projection head.
        var view = new ClipPairs(new Compose(TemporalSampling.RandomOffset(settings.Frames - 2), new PerClip(new RandomCrop(64, 64, padding: 4))));
        using var pairNet = new ClipPairEncoder(new VideoCnn3d(settings.TeacherChannels, 32));
        using var pairModel = Student.FromModule(pairNet);
        using (var pretext = new Distiller(new IDistillationModel[] { pairModel }, new ClipContrastiveLoss(settings.ContrastiveTemperature), Options(settings.PretextEpochs, 100 + k)))
        {
            pretext.Metrics.Clear();
            pretext.Metrics.Add(() => new ClipPairRetrievalAccuracy());
            pretext.Fit(Pipeline(train, 100 + k, shuffle: true, view));
        }

        var retrieval = Evaluation.Run(pairModel, Pipeline(test, 7, shuffle: false, view), CPU, new Func<IMetric>[] { () => new ClipPairRetrievalAccuracy() })["pair_retrieval_accuracy"];
        Console.WriteLine($"teacher t{k}: {task} pretext test pair retrieval {retrieval:P1} (chance {1.0 / ((2 * settings.Batch) - 1):P1})");
        VideoPretext.TransferBackbone(pairNet.Encoder, net);
        return;
    }

    var kind = Enum.Parse<VideoPretextTask>(task);
    using var pretextNet = new VideoCnn3d(settings.TeacherChannels, VideoPretext.ClassesOf(kind));
    using (var pretextModel = Student.FromModule(pretextNet))
    using (var pretext = new Distiller(new IDistillationModel[] { pretextModel }, new CrossEntropyLoss(), Options(settings.PretextEpochs, 100 + k)))
    {
        pretext.Fit(Pipeline(VideoPretext.Labels(train, kind), 100 + k, shuffle: true, new VideoPretext(kind)));
        var pretextTest = Evaluation.Run(pretextModel, Pipeline(VideoPretext.Labels(test, kind), 7, shuffle: false, new VideoPretext(kind)), CPU)["accuracy"];
        Console.WriteLine($"teacher t{k}: {task} pretext test accuracy {pretextTest:P1} (chance {1.0 / VideoPretext.ClassesOf(kind):P0})");
    }

    VideoPretext.TransferBackbone(pretextNet, net);
}

// The learned graph weights after training (for the edge-collapse question): the logits graph's vertex weights pi_i and the
// representation graph's edge weights v_ij.
static string GraphWeights(LogitsGraphLoss? logits, RepresentationGraphLoss? representation)
{
    using var scope = NewDisposeScope();
    var parts = new List<string>();
    if (logits is not null)
    {
        var pi = logits.Graph.VertexWeights().detach().cpu().to_type(ScalarType.Float64).data<double>().ToArray();
        parts.Add("pi " + string.Join(" ", pi.Select((w, i) => $"{logits.Teachers[i]}={w:F4}")));
    }

    if (representation is not null)
    {
        var v = representation.Graph.EdgeWeights().detach().cpu().to_type(ScalarType.Float64).data<double>().ToArray();
        parts.Add("v " + string.Join(" ", v.Select((w, e) => $"{representation.Teachers[representation.Graph.Edges[e].I]}-{representation.Teachers[representation.Graph.Edges[e].J]}={w:F4}")));
    }

    return string.Join("; ", parts);
}

void WriteResults()
{
    Console.WriteLine();
    Console.WriteLine($"{"method",-34} {"seeds",5} {"accuracy (mean ± std)",22} {"params",9} {"ms/clip",8}");
    foreach (var group in rows.GroupBy(r => r.Method))
    {
        var acc = group.Select(r => r.Accuracy).ToArray();
        var mean = acc.Average();
        var std = acc.Length > 1 ? Math.Sqrt(acc.Sum(a => (a - mean) * (a - mean)) / (acc.Length - 1)) : 0;
        Console.WriteLine($"{group.Key,-34} {acc.Length,5} {$"{100 * mean:F2} ± {100 * std:F2}",22} {group.First().Parameters,9} {group.Average(r => r.MsPerClip),8:F2}");
    }

    if (settings.Results is { } dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "runs.json"), JsonSerializer.Serialize(new { settings = settings with { }, rows }, new JsonSerializerOptions { WriteIndented = true }));
        File.WriteAllLines(Path.Combine(dir, "runs.csv"), rows.Select(r => string.Join(",", r.Method, r.Seed, r.Accuracy.ToString("R", CultureInfo.InvariantCulture), r.Parameters, r.MsPerClip.ToString("F3", CultureInfo.InvariantCulture), r.Seconds.ToString("F1", CultureInfo.InvariantCulture), r.Notes ?? string.Empty)).Prepend("method,seed,accuracy,parameters,ms_per_clip,seconds,notes"));
        Console.WriteLine($"results written to {dir}");
    }
}

static long Parameters(nn.Module module) => module.parameters().Sum(p => p.numel());

double InferenceMsPerClip(nn.Module<Tensor, Tensor> module)
{
    module.eval();
    using var noGrad = no_grad();
    using var scope = NewDisposeScope();
    var clips = randn(new long[] { settings.Batch, settings.Frames, 1, 64, 64 });
    module.call(clips);
    var clock = Stopwatch.StartNew();
    const int repeats = 5;
    for (var i = 0; i < repeats; i++)
    {
        module.call(clips);
    }

    return clock.Elapsed.TotalMilliseconds / (repeats * settings.Batch);
}

/// <summary>One trained model's result.</summary>
internal sealed record Row(string Method, int Seed, double Accuracy, long Parameters, double MsPerClip, double Seconds, string? Notes = null);
