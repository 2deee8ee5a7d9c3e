using System.CommandLine;
using Microsoft.Extensions.Logging;
using SelfSupervisedDistillation;

// Self-supervised distillation on Fashion-MNIST: a wide ResNet teacher trained without labels (SimCLR or MoCo v2), then a
// small student trained without labels by MoCo v2 alone, SEED, CompRess-1q or ReKD from the frozen teacher; each encoder is
// scored by k-NN accuracy and a linear probe on its frozen pooled features. Raw per-run results go to OUTPUT/runs/*.json,
// the aggregate to OUTPUT/summary.md and OUTPUT/runs.csv. CIFAR-10 is not used (not on the benchmark machine).
var output = new Option<string>("--output") { Description = "Output directory (teacher weights, runs, summary).", DefaultValueFactory = _ => "out/ssl" };
var trainLimit = new Option<int>("--train-limit") { Description = "Training images (unlabelled for training; labels only for evaluation).", DefaultValueFactory = _ => 4000 };
var testLimit = new Option<int>("--test-limit") { Description = "Test images for the evaluation.", DefaultValueFactory = _ => 5000 };
var teacherEpochs = new Option<int>("--teacher-epochs") { Description = "Teacher SSL epochs.", DefaultValueFactory = _ => 15 };
var studentEpochs = new Option<int>("--student-epochs") { Description = "Student epochs (the same for every method).", DefaultValueFactory = _ => 8 };
var batch = new Option<int>("--batch-size") { Description = "Batch size (both views count once).", DefaultValueFactory = _ => 128 };
var widthScale = new Option<double>("--width-scale") { Description = "Width multiplier of the resnet32x4 teacher / resnet8x4 student.", DefaultValueFactory = _ => 0.25 };
var projection = new Option<int>("--projection") { Description = "Projection width (the networks' last linear layer).", DefaultValueFactory = _ => 64 };
var queue = new Option<int>("--queue") { Description = "Queue size of MoCo / SEED / CompRess / ReKD (at most the training images).", DefaultValueFactory = _ => 2048 };
var knn = new Option<int>("--knn") { Description = "k of the k-NN evaluation.", DefaultValueFactory = _ => 20 };
var probeEpochs = new Option<int>("--probe-epochs") { Description = "Linear-probe epochs.", DefaultValueFactory = _ => 30 };
var seeds = new Option<int[]>("--seeds") { Description = "Student seeds.", DefaultValueFactory = _ => new[] { 0, 1, 2 }, AllowMultipleArgumentsPerToken = true };
var methods = new Option<string[]>("--methods") { Description = $"Student methods: {string.Join(", ", Experiment.AllMethods)}.", DefaultValueFactory = _ => new[] { "ssl", "seed", "rekd" }, AllowMultipleArgumentsPerToken = true };
methods.AcceptOnlyFromAmong(Experiment.AllMethods);
var teacherMethod = new Option<string>("--teacher-method") { Description = "simclr or moco.", DefaultValueFactory = _ => "simclr" };
teacherMethod.AcceptOnlyFromAmong("simclr", "moco");

var root = new RootCommand("Self-supervised distillation (SEED, CompRess, ReKD) on Fashion-MNIST with KnowledgeDistillation")
{
    output, trainLimit, testLimit, teacherEpochs, studentEpochs, batch, widthScale, projection, queue, knn, probeEpochs, seeds, methods, teacherMethod,
};

root.SetAction((parse, cancellationToken) =>
{
    TorchSharp.torch.set_num_threads(1);
    using var factory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.TimestampFormat = "HH:mm:ss "));
    var settings = new Settings(
        Path.GetFullPath(parse.GetValue(output)!), parse.GetValue(trainLimit), parse.GetValue(testLimit), parse.GetValue(teacherEpochs), parse.GetValue(studentEpochs),
        parse.GetValue(batch), parse.GetValue(widthScale), parse.GetValue(projection), parse.GetValue(queue), parse.GetValue(knn), parse.GetValue(probeEpochs),
        parse.GetValue(seeds)!, parse.GetValue(methods)!, parse.GetValue(teacherMethod)!);
    new Experiment(settings, factory.CreateLogger<Experiment>()).Run(cancellationToken);
    return Task.FromResult(0);
});

return await root.Parse(args).InvokeAsync();
