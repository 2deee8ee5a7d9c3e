using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation;
using KnowledgeDistillation.Data;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Models;
using TorchSharp;
using static TorchSharp.torch;

// Graph distillation from several self-supervised video teachers (Zhang and Peng, IJCAI 2018) on Moving Fashion-MNIST.
// Teachers: three 3D CNNs, each pre-trained on one pretext task (frame order, temporal coherence, rotation) and fine-tuned on
// the labels. Student: a small 2D CNN with temporal average pooling. Methods: the student alone, KD from each single teacher,
// averaged multi-teacher KD, graph distillation with the logits graph, the representation graph, or both.
// Usage: dotnet run -c Release --project samples/VideoGraphDistillation -- [--train 2000] [--test 1000] [--frames 6]
//   [--pretext-epochs 2] [--finetune-epochs 2] [--student-epochs 3] [--seeds 1] [--first-seed 0] [--batch 32] [--threads 1]
//   [--methods student,kd-t0,...] [--results DIR] [--data DIR] | --bench-step [--steps 20]
var settings = Settings.Parse(args);
using var threads = new ThreadScope(settings.Threads);
if (settings.BenchStep)
{
    StepBenchmark.Run(settings);
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
};

var testSource = Pipeline(test, 0, shuffle: false);
double Accuracy(IDistillationModel model) => Evaluation.Run(model, testSource, CPU)["accuracy"];

// Teachers: pretext pre-training, then fine-tuning on the labels (seed 100 + k, fixed across student seeds).
var tasks = new[] { VideoPretextTask.FrameOrder, VideoPretextTask.TemporalCoherence, VideoPretextTask.Rotation };
var teachers = new List<(string Name, VideoCnn3d Net, Teacher Participant)>();
var rows = new List<Row>();
for (var k = 0; k < tasks.Length; k++)
{
    var clock = Stopwatch.StartNew();
    random.manual_seed(100 + k);
    using var pretextNet = new VideoCnn3d(settings.TeacherChannels, VideoPretext.ClassesOf(tasks[k]));
    using (var pretextModel = Student.FromModule(pretextNet))
    using (var pretext = new Distiller(new IDistillationModel[] { pretextModel }, new CrossEntropyLoss(), Options(settings.PretextEpochs, 100 + k)))
    {
        var pretextData = Pipeline(VideoPretext.Labels(train, tasks[k]), 100 + k, shuffle: true, new VideoPretext(tasks[k]));
        pretext.Fit(pretextData);
        var pretextTest = Evaluation.Run(pretextModel, Pipeline(VideoPretext.Labels(test, tasks[k]), 7, shuffle: false, new VideoPretext(tasks[k])), CPU)["accuracy"];
        Console.WriteLine($"teacher t{k}: {tasks[k]} pretext test accuracy {pretextTest:P1} (chance {1.0 / VideoPretext.ClassesOf(tasks[k]):P0})");
    }

    var net = new VideoCnn3d(settings.TeacherChannels, 10);
    VideoPretext.TransferBackbone(pretextNet, net);
    var participant = Teacher.FromModule(net, $"t{k}");
    using (var finetuneModel = Student.FromModule(net))
    using (var finetune = new Distiller(new IDistillationModel[] { finetuneModel }, new CrossEntropyLoss(), Options(settings.FinetuneEpochs, 200 + k)))
    {
        finetune.Fit(Pipeline(train, 200 + k, shuffle: true));
    }

    var accuracy = Accuracy(participant);
    Console.WriteLine($"teacher t{k} ({tasks[k]} + fine-tuning): test accuracy {accuracy:P2}, {clock.Elapsed.TotalSeconds:F0} s");
    rows.Add(new Row($"teacher-t{k}-{tasks[k]}", 0, accuracy, Parameters(net), InferenceMsPerClip(net), clock.Elapsed.TotalSeconds));
    teachers.Add(($"t{k}", net, participant));
}

var names = teachers.Select(t => t.Name).ToArray();
var methods = settings.Methods ?? new[] { "student", "kd-t0", "kd-t1", "kd-t2", "mt-kd-average", "graph-logits", "graph-representation", "graph-both" };
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
        if (method == "student")
        {
            recipe = DistillationRecipe.FromLoss("student", new CrossEntropyLoss());
        }
        else if (method.StartsWith("kd-", StringComparison.Ordinal))
        {
            var teacher = teachers.Single(t => t.Name == method[3..]);
            participants.Add(teacher.Participant);
            recipe = Recipes.Hinton(settings.Temperature, 0.9, teacher: teacher.Name);
        }
        else if (method == "mt-kd-average")
        {
            participants.AddRange(teachers.Select(t => t.Participant));
            recipe = Recipes.MultiTeacher(Loss.MultiTeacherKD(names, temperature: settings.Temperature), alpha: 0.9);
        }
        else
        {
            participants.AddRange(teachers.Select(t => t.Participant));
            var logits = method is "graph-logits" or "graph-both" ? Loss.LogitsGraph(names, temperature: settings.Temperature) : null;
            var representation = method is "graph-representation" or "graph-both"
                ? Loss.RepresentationGraph(names, teachers.Select(t => t.Net.EmbeddingDimension).ToArray(), net.EmbeddingDimension, pooledDimension: settings.PooledDimension, seed: seed)
                : null;
            recipe = Recipes.GraphDistillation(logits, representation, settings.LogitsWeight, settings.RepresentationWeight);
        }

        using (var distiller = new Distiller(participants, recipe, Options(settings.StudentEpochs, seed)))
        {
            distiller.Fit(Pipeline(train, seed, shuffle: true));
        }

        var accuracy = Accuracy(student);
        Console.WriteLine($"seed {seed} {method,-22} test accuracy {accuracy:P2} ({clock.Elapsed.TotalSeconds:F0} s)");
        rows.Add(new Row(method, seed, accuracy, Parameters(net), InferenceMsPerClip(net), clock.Elapsed.TotalSeconds));
    }
}

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
    File.WriteAllLines(Path.Combine(dir, "runs.csv"), rows.Select(r => string.Join(",", r.Method, r.Seed, r.Accuracy.ToString("R", CultureInfo.InvariantCulture), r.Parameters, r.MsPerClip.ToString("F3", CultureInfo.InvariantCulture), r.Seconds.ToString("F1", CultureInfo.InvariantCulture))).Prepend("method,seed,accuracy,parameters,ms_per_clip,seconds"));
    Console.WriteLine($"results written to {dir}");
}

foreach (var t in teachers)
{
    t.Participant.Dispose();
    t.Net.Dispose();
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
internal sealed record Row(string Method, int Seed, double Accuracy, long Parameters, double MsPerClip, double Seconds);
