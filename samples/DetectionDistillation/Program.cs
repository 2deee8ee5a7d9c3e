using System.Diagnostics;
using System.Text.Json;
using KnowledgeDistillation;
using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Evaluation;
using KnowledgeDistillation.Detection.Fcos;
using KnowledgeDistillation.Detection.Losses;
using KnowledgeDistillation.Detection.Models;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using TorchSharp;
using static TorchSharp.torch;

// Detection distillation on BCCD (blood cells, 3 classes): an FCOS teacher (ResNet-18 topology at half width) and student
// (ResNet-10 at quarter width), FPN P3-P7 with 64 channels each. One process per run, so runs go in parallel:
//   --mode teacher  [--epochs 24] [--teacher results/detection/teacher.bin]    train + save + score the teacher
//   --mode student  --method alone|fpn-mse|icd --seed S [--epochs 12] [--warmup-steps 36] [--icd-weight 8] [--aux-lr 1e-4] [--mse-weight 1]
//   --mode icd-aux [--steps N] [--aux-lr 1e-3] [--probe-every 100]              ICD's auxiliary task alone on the frozen teacher, saved
//   --mode student --method icd --icd-aux results/icd-aux-seed0                  ... starting from those auxiliary modules
//   --mode student --method icd --aux-epochs N [--aux-stage-lr 1e-3]              ... or with the recipe's own auxiliary-task stage first (N epochs)
//   --mode bench-step [--steps 20]                                              one student training step, timed
//   --mode aux-probe [--steps 300] [--aux-lr 1e-4] [--probe-images 8] [--probe-every 50] [--probe-variant icd|no-position|exact-centre] [--heads 8]
//                                                                               ICD's auxiliary task alone on a fixed batch (see AuxiliaryProbe)
// Common: [--data DIR] [--image-size 256] [--batch 8] [--lr 1e-3] [--threads 1] [--results DIR] [--limit N] [--checkpoints DIR (student runs resume from it)]
//         [--box-output exponential|scaled-relu] (the FCOS head's box output; scaled-relu loads detectors trained before 2026-12-03)
Settings settings;
try
{
    settings = Settings.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    // A bad option ends with one line and exit code 2, never a stack trace.
    Console.Error.WriteLine(e.Message);
    return 2;
}

torch.set_num_threads(settings.Threads);
var classes = new[] { "Platelets", "RBC", "WBC" };
DetectionDataset train, test;
try
{
    train = VocReader.Read(settings.Data, new VocOptions { ImageSet = "trainval", Classes = classes });
    test = VocReader.Read(settings.Data, new VocOptions { ImageSet = "test", Classes = classes });
}
catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"Cannot read the Pascal VOC data in '{settings.Data}': {e.Message}");
    return 1;
}
if (settings.Limit > 0)
{
    (train, test) = (train.Take(settings.Limit), test.Take(Math.Min(settings.Limit, test.Count)));
}

Directory.CreateDirectory(settings.Results);
var trainSource = new DetectionBatchSource(train, new DetectionBatchOptions { BatchSize = settings.Batch, ImageSize = settings.ImageSize, Seed = settings.Seed, HorizontalFlip = true, MinScale = 0.8, MaxScale = 1.0 });
var testSource = new DetectionBatchSource(test, new DetectionBatchOptions { BatchSize = settings.Batch, ImageSize = settings.ImageSize, Shuffle = false });
Console.WriteLine($"BCCD: {train.Count} training (trainval), {test.Count} test images; objects per class {string.Join(", ", train.ClassCounts())}; issues {train.Issues.Count}; threads {settings.Threads}");

var boxOutput = settings.BoxOutput == "scaled-relu" ? FcosBoxOutput.ScaledRelu : FcosBoxOutput.Exponential;
var teacherOptions = FcosDetectorOptions.ResNet18Half(3) with { BoxOutput = boxOutput };
var studentOptions = FcosDetectorOptions.ResNet10Quarter(3) with { BoxOutput = boxOutput };
DistillerOptions Options(int seed) => new()
{
    Epochs = settings.Epochs,
    Seed = seed,
    Threads = settings.Threads,
    MaxGradNorm = 10,
    Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = settings.LearningRate, WeightDecay = 1e-4 },
    LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine, MinLearningRate = settings.LearningRate * 0.05 },
};

double LatencyMs(FcosDetector model)
{
    model.eval();
    using var noGrad = no_grad();
    var images = testSource.GetBatches(0, CPU).SelectMany(b => Enumerable.Range(0, (int)b.Size).Select(i => b.Inputs[i].unsqueeze(0).clone())).Take(24).ToArray();
    for (var i = 0; i < 4; i++)
    {
        using var scope = NewDisposeScope();
        model.call(images[i]);
    }

    var clock = Stopwatch.StartNew();
    for (var i = 4; i < images.Length; i++)
    {
        using var scope = NewDisposeScope();
        model.call(images[i]);
    }

    return clock.Elapsed.TotalMilliseconds / (images.Length - 4);
}

// Per box side (left, top, right, bottom), the share of test-set positions whose predicted distance is exactly 0: the head
// ends in a ReLU, so a side at 1.0 is a dead unit that no gradient revives.
double[] BoxZeroFraction(FcosDetector model)
{
    model.eval();
    using var noGrad = no_grad();
    var (zero, total) = (new double[4], 0L);
    foreach (var batch in testSource.GetBatches(0, CPU))
    {
        using var scope = NewDisposeScope();
        var box = model.call(batch.Inputs).Features[FcosDetector.BoxDistances].reshape(-1, 4);
        var counts = box.eq(0).to(ScalarType.Float32).sum(dim: 0).to(ScalarType.Float64).cpu().data<double>().ToArray();
        for (var j = 0; j < 4; j++)
        {
            zero[j] += counts[j];
        }

        total += box.shape[0];
    }

    return zero.Select(z => z / total).ToArray();
}

// ICD's auxiliary task on the test images (queries drawn as in training, real = the test annotations): per class,
// the share of real instances identified and of fakes rejected.
object Identification(IcdLoss icd, FcosDetector teacherModel)
{
    teacherModel.eval();
    IcdIdentificationReport? report = null;
    foreach (var batch in testSource.GetBatches(0, CPU))
    {
        using var scope = NewDisposeScope();
        ModelOutput output;
        using (no_grad())
        {
            output = teacherModel.call(batch.Inputs);
        }

        var measured = IcdIdentification.Measure(icd, new DistillationContext(batch, new Dictionary<string, ModelOutput> { ["teacher"] = output, ["student"] = output }, epoch: 1));
        report = report is null ? measured : report.Add(measured);
    }

    return new
    {
        accuracy = report!.Accuracy,
        real_recall = report.RealRecall,
        fake_rejection = report.FakeRejection,
        per_class = classes.Select((c, i) => new { name = c, accuracy = report.ClassAccuracy(i), recall = report.ClassRecall(i), fake_rejection = report.ClassFakeRejection(i), real = report.Real[i], fake = report.Fake[i] }).ToArray(),
    };
}

void Write(string name, object row)
{
    var path = Path.Combine(settings.Results, name + ".json");
    File.WriteAllText(path, JsonSerializer.Serialize(row, new JsonSerializerOptions { WriteIndented = true }));
    Console.WriteLine($"wrote {path}: {JsonSerializer.Serialize(row)}");
}

if (settings.Mode == "bench-step")
{
    StepBenchmark.Run(trainSource, studentOptions, settings);
    return 0;
}

if (settings.Mode == "aux-probe")
{
    AuxiliaryProbe.Run(train, settings, teacherOptions, classes);
    return 0;
}

IcdOptions IcdSettings(int warmupSteps) => new()
{
    Classes = 3, TeacherChannels = teacherOptions.FpnChannels, StudentChannels = studentOptions.FpnChannels, Heads = settings.Heads, Weight = settings.IcdWeight,
    WarmupSteps = warmupSteps, Seed = settings.Seed, Prior = InstancePrior.FromDataset(train),
};

OptimizerOptions AuxOptimizer(double learningRate) => new() { Kind = OptimizerKind.AdamW, LearningRate = learningRate, WeightDecay = 1e-4 };

static void LoadAuxiliary(IcdLoss icd, string prefix)
{
    icd.Encoder.load(prefix + ".encoder.bin");
    icd.Decoder.load(prefix + ".decoder.bin");
    icd.AuxiliaryHead.load(prefix + ".head.bin");
}

if (settings.Mode == "icd-aux")
{
    // ICD's auxiliary task alone on the frozen teacher (no detector trains): the official warm-up ("distillation bypassed,
    // only the auxiliary module learns") run once and saved, shared by the ICD students like the teacher. The teacher's
    // FPN levels of the training set (batches of --batch, no augmentation) are computed once; the modules then train for
    // --steps steps over them in turn, fresh fakes and jitter every step, AdamW --aux-lr.
    random.manual_seed(settings.Seed);
    using var teacherModel = new FcosDetector(teacherOptions);
    teacherModel.load(settings.Teacher);
    teacherModel.eval();
    var clock = Stopwatch.StartNew();
    var fixedSource = new DetectionBatchSource(train, new DetectionBatchOptions { BatchSize = settings.Batch, ImageSize = settings.ImageSize, Shuffle = false });
    var cached = new List<(KnowledgeDistillation.Data.Batch Batch, Dictionary<string, ModelOutput> Outputs)>();
    foreach (var batch in fixedSource.GetBatches(0, CPU))
    {
        ModelOutput output;
        using (no_grad())
        {
            output = teacherModel.call(batch.Inputs);
        }

        cached.Add((batch, new Dictionary<string, ModelOutput> { ["teacher"] = output, ["student"] = output }));
    }

    using var icd = new IcdLoss(IcdSettings(int.MaxValue));
    using var optimizer = optim.AdamW(icd.TrainableModules.SelectMany(m => m.parameters()), settings.AuxLearningRate, weight_decay: 1e-4);
    var log = new List<object>();
    var (acc, recall, bce, count) = (0.0, 0.0, 0.0, 0);
    for (var step = 0; step < settings.Steps; step++)
    {
        using var scope = NewDisposeScope();
        var (batch, outputs) = cached[step % cached.Count];
        optimizer.zero_grad();
        var stepResult = icd.Compute(new DistillationContext(batch, outputs, "icd-aux", step / cached.Count, step));
        stepResult.Total.backward();
        optimizer.step();
        (acc, recall, bce, count) = (acc + stepResult.Parts["icd.aux-acc"].item<float>(), recall + stepResult.Parts["icd.aux-recall"].item<float>(), bce + stepResult.Parts["icd.aux-identify"].item<float>(), count + 1);
        if ((step + 1) % settings.ProbeEvery == 0)
        {
            log.Add(new { step = step + 1, aux_identify = bce / count, aux_acc = acc / count, aux_recall = recall / count });
            Console.WriteLine($"step {step + 1}: aux-identify {bce / count:F4} aux-acc {acc / count:F4} aux-recall {recall / count:F4} ({clock.Elapsed.TotalSeconds:F0} s)");
            (acc, recall, bce, count) = (0, 0, 0, 0);
        }
    }

    var prefix = Path.Combine(settings.Results, $"icd-aux-seed{settings.Seed}");
    icd.Encoder.save(prefix + ".encoder.bin");
    icd.Decoder.save(prefix + ".decoder.bin");
    icd.AuxiliaryHead.save(prefix + ".head.bin");
    Write($"icd-aux-seed{settings.Seed}", new
    {
        method = "icd-aux",
        seed = settings.Seed,
        steps = settings.Steps,
        aux_lr = settings.AuxLearningRate,
        identification = Identification(icd, teacherModel),
        seconds = clock.Elapsed.TotalSeconds,
        training = log,
        command = Environment.CommandLine,
    });
    return 0;
}

if (settings.Mode == "teacher")
{
    random.manual_seed(1000);
    using var net = new FcosDetector(teacherOptions);
    using var participant = Teacher.FromModule(net);
    var clock = Stopwatch.StartNew();
    using (var run = new Distiller(new IDistillationModel[] { participant }, Recipes.Detector(3, participant: "teacher"), Options(1000)).UseConsoleProgress())
    {
        run.Fit(trainSource);
    }

    net.save(settings.Teacher);
    var map = DetectionEvaluator.Evaluate(net, testSource);
    Write("teacher", new { method = "teacher", box_output = settings.BoxOutput, epochs = settings.Epochs, map50 = map.VocMap50, map = map.CocoMap, ap50_per_class = map.VocAp50PerClass, parameters = net.ParameterCount, latency_ms = LatencyMs(net), seconds = clock.Elapsed.TotalSeconds, command = Environment.CommandLine });
    return 0;
}

random.manual_seed(settings.Seed);
using var studentNet = new FcosDetector(studentOptions);
using var student = Student.FromModule(studentNet);
using var teacherNet = new FcosDetector(teacherOptions);
if (settings.Method != "alone")
{
    teacherNet.load(settings.Teacher);
}

using var teacher = Teacher.FromModule(teacherNet);
var recipe = settings.Method switch
{
    "alone" => Recipes.Detector(3),
    "fpn-mse" => Recipes.FpnFeatureMse(3, studentOptions.FpnChannels, teacherOptions.FpnChannels, settings.MseWeight),
    "icd" => Recipes.Icd(IcdSettings(settings.WarmupSteps), auxiliaryOptimizer: AuxOptimizer(settings.AuxLearningRate), auxiliaryEpochs: settings.AuxEpochs,
        auxiliaryStageOptimizer: AuxOptimizer(settings.AuxStageLearningRate)),
    _ => throw new ArgumentException($"Unknown method '{settings.Method}'."),
};
if (settings.IcdAux is { } auxPrefix && recipe.Stages[^1].Loss is SumLoss icdSum)
{
    // ICD's auxiliary modules pre-trained on the frozen teacher (--mode icd-aux), shared by every seed like the teacher.
    LoadAuxiliary(icdSum.Terms.OfType<IcdLoss>().Single(), auxPrefix);
}

var participants = settings.Method == "alone" ? new IDistillationModel[] { student } : new IDistillationModel[] { teacher, student };
var timer = Stopwatch.StartNew();
FitResult result;
object? identification;
var studentRunOptions = Options(settings.Seed);
if (settings.Checkpoints is { } checkpointRoot)
{
    // One checkpoint per epoch; a rerun of the same command resumes from it (a killed run loses at most one epoch).
    studentRunOptions.Checkpoint = new CheckpointOptions { Directory = Path.Combine(checkpointRoot, $"{settings.Method}-seed{settings.Seed}") };
}

using (var run = new Distiller(participants, recipe, studentRunOptions).UseConsoleProgress())
{
    var existing = studentRunOptions.Checkpoint.FilePath;
    result = existing is not null && File.Exists(existing) ? run.Resume(existing, trainSource) : run.Fit(trainSource);

    // Before the run is disposed: it disposes the recipe's terms and their modules.
    identification = recipe.Stages[^1].Loss is SumLoss sum && sum.Terms.OfType<IcdLoss>().SingleOrDefault() is { } icdTerm ? Identification(icdTerm, teacherNet) : null;
}

var score = DetectionEvaluator.Evaluate(studentNet, testSource);
var boxZero = BoxZeroFraction(studentNet);
var last = result.History[^1].LossParts;
Write($"{settings.Method}-seed{settings.Seed}", new
{
    method = settings.Method,
    seed = settings.Seed,
    epochs = settings.Epochs,
    aux_epochs = settings.AuxEpochs,
    map50 = score.VocMap50,
    map = score.CocoMap,
    ap50_per_class = score.VocAp50PerClass,
    parameters = studentNet.ParameterCount,
    box_zero_fraction = boxZero,
    box_output = settings.BoxOutput,
    identification,
    latency_ms = LatencyMs(studentNet),
    seconds = timer.Elapsed.TotalSeconds,
    final_parts = last,
    history = result.History.Select(h => new { h.Loss, h.LossParts }).ToArray(),
    command = Environment.CommandLine,
});
return 0;
