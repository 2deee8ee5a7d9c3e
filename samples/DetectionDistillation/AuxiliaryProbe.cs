using System.Globalization;
using KnowledgeDistillation;
using KnowledgeDistillation.Detection.Data;
using KnowledgeDistillation.Detection.Losses;
using KnowledgeDistillation.Detection.Models;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// ICD's auxiliary task alone on a fixed batch of <c>--probe-images</c> training images (no augmentation) with the frozen
/// teacher (<c>--teacher random</c> for an untrained one): its modules train with AdamW (<c>--aux-lr</c>) for <c>--steps</c>
/// steps, fresh fake instances and jitter every step, and every <c>--probe-every</c> steps the identification is measured
/// on 4 held-out draws of queries (epoch 1: draws training never used) per class, with the real-instance recall.
/// <c>--probe-variant</c>: <c>icd</c> (the term as shipped), <c>no-position</c> (keys without the positional embedding),
/// <c>exact-centre</c> (reference points at the box centres, no jitter), <c>unit-scale</c> (the teacher's FPN levels divided
/// by their joint standard deviation).
/// </summary>
internal static class AuxiliaryProbe
{
    public static void Run(DetectionDataset train, Settings settings, FcosDetectorOptions teacherOptions, string[] classes)
    {
        var n = settings.ProbeImages;
        var source = new DetectionBatchSource(train.Take(n), new DetectionBatchOptions { BatchSize = n, ImageSize = settings.ImageSize, Shuffle = false });
        var batch = source.GetBatches(0, CPU).First();
        random.manual_seed(settings.Seed);
        using var teacher = new FcosDetector(teacherOptions);
        if (settings.Teacher != "random")
        {
            teacher.load(settings.Teacher);
        }

        teacher.eval();
        ModelOutput output;
        using (no_grad())
        {
            output = teacher.call(batch.Inputs);
        }

        if (settings.ProbeVariant == "unit-scale")
        {
            // All FPN levels divided by one global standard deviation (bisection only: the teacher's scale).
            var std = cat(FcosDetectorOptions.Levels.Select(l => output.Features[l].flatten()).ToArray()).std().item<float>();
            output = new ModelOutput(null, output.Features.ToDictionary(kv => kv.Key, kv => FcosDetectorOptions.Levels.Contains(kv.Key) ? kv.Value / std : kv.Value));
        }

        var outputs = new Dictionary<string, ModelOutput> { ["teacher"] = output, ["student"] = output };
        var levels = FcosDetectorOptions.Levels.Select(l => output.Features[l]).ToArray();
        Console.WriteLine($"probe: {n} images {Shape(batch.Inputs)}, teacher '{settings.Teacher}', FPN std per level {string.Join(", ", levels.Select(f => f.std().item<float>().ToString("F3", CultureInfo.InvariantCulture)))}, variant {settings.ProbeVariant}, aux lr {settings.AuxLearningRate}, threads {settings.Threads}");
        var options = new IcdOptions
        {
            Classes = classes.Length, TeacherChannels = teacherOptions.FpnChannels, Heads = settings.Heads, WarmupSteps = int.MaxValue, Seed = settings.Seed,
            Prior = InstancePrior.FromDataset(train), ReferenceJitter = settings.ProbeVariant == "exact-centre" ? 0 : 0.3,
        };
        using var loss = new IcdLoss(options);
        var parameters = loss.TrainableModules.SelectMany(m => m.parameters()).ToArray();
        using var optimizer = optim.AdamW(parameters, settings.AuxLearningRate, weight_decay: 1e-4);
        for (var step = 0; step <= settings.Steps; step++)
        {
            if (step % settings.ProbeEvery == 0 || step == settings.Steps)
            {
                Report(step, loss, batch, outputs, classes);
            }

            if (step == settings.Steps)
            {
                break;
            }

            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var context = new DistillationContext(batch, outputs, epoch: 0, step: step);
            var total = settings.ProbeVariant == "no-position" ? WithoutPosition(loss, context) : loss.Compute(context).Total;
            total.backward();
            optimizer.step();
        }
    }

    // The same pass as IcdLoss with the keys' positional embedding zeroed (bisection only).
    private static Tensor WithoutPosition(IcdLoss loss, DistillationContext context)
    {
        var levels = FcosDetectorOptions.Levels.Select(l => context.Output("teacher").Feature(l)).ToArray();
        var sizes = context.Batch.Extras[DetectionTargets.ImageSize];
        var (_, padding) = IcdLoss.Positions(levels, sizes);
        var features = IcdLoss.Flatten(levels);
        var queries = IcdQuerySampler.Sample(context.Batch.Targets!, sizes, loss.Options, context.Epoch, context.Step);
        var decoded = loss.Decoder.call(loss.Encoder.call(queries.Classes, queries.ReferencePoints, queries.BoxSizes), features, zeros_like(features), padding);
        var (identify, localise, _) = IcdLoss.AuxiliaryLoss(loss.AuxiliaryHead.call(decoded.Queries), queries);
        return identify + localise;
    }

    private static void Report(int step, IcdLoss loss, KnowledgeDistillation.Data.Batch batch, Dictionary<string, ModelOutput> outputs, string[] classes)
    {
        IcdIdentificationReport? report = null;
        double bce = 0;
        for (var draw = 0; draw < 4; draw++)
        {
            var context = new DistillationContext(batch, outputs, epoch: 1, step: draw);
            var measured = IcdIdentification.Measure(loss, context);
            report = report is null ? measured : report.Add(measured);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            bce += loss.Compute(context).Parts[loss.Name + ".aux-identify"].item<float>() / 4;
        }

        var perClass = string.Join("; ", classes.Select((c, i) => string.Create(CultureInfo.InvariantCulture,
            $"{c} acc {report!.ClassAccuracy(i):F3} recall {report.ClassRecall(i):F3} ({report.Real[i]} real) fake-rejection {report.ClassFakeRejection(i):F3} ({report.Fake[i]} fake)")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step}: held-out bce {bce:F4} acc {report!.Accuracy:F4} recall {report.RealRecall:F4} fake-rejection {report.FakeRejection:F4} | {perClass}"));
    }

    private static string Shape(Tensor t) => string.Join("x", t.shape);
}
