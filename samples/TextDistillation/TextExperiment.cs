using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Losses;
using KnowledgeDistillation.Transformers;
using KnowledgeDistillation.Transformers.Data;
using KnowledgeDistillation.Transformers.Losses;
using KnowledgeDistillation.Transformers.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace TextDistillation;

/// <summary>The SST-2 comparison: teacher, then each student method over seeds.</summary>
internal static class TextExperiment
{
    public static readonly string[] Methods = { "alone", "kd", "internal-all", "pid", "sid" };

    public static void Run(TextSettings s, TextWriter log, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(s.OutputDirectory);
        var train = Limit(TextClassificationData.Read(Path.Combine(s.DataDirectory, "train.tsv")), s.TrainLimit);
        var dev = Limit(TextClassificationData.Read(Path.Combine(s.DataDirectory, "dev.tsv")), s.DevLimit);
        var vocabPath = s.Vocabulary;
        if (vocabPath is null)
        {
            if (s.TeacherCheckpoint is not null)
            {
                throw new ArgumentException("--teacher-checkpoint needs the checkpoint's --vocab.");
            }

            vocabPath = Path.Combine(s.OutputDirectory, "vocab.txt");
            Vocabulary.Build(train.Texts, vocabPath, maxSize: 12000, minCount: 2, lowerCase: s.LowerCase);
        }

        var tokenizer = WordPieceTokenizer.FromVocabulary(vocabPath, s.LowerCase);
        var trainSource = new TextBatchSource(train, tokenizer, s.MaxLength, s.BatchSize, shuffle: true, seed: 1, bucketBatches: 8);
        var devSource = new TextBatchSource(dev, tokenizer, s.MaxLength, 64, shuffle: false);
        log.WriteLine($"SST-2: {train.Count} training and {dev.Count} dev sentences, vocabulary {tokenizer.VocabularySize}, max length {s.MaxLength}; load {Load()}");

        var teacherConfig = new BertConfig
        {
            VocabSize = tokenizer.VocabularySize, HiddenSize = s.Hidden, NumHiddenLayers = s.TeacherLayers, NumAttentionHeads = s.Heads,
            IntermediateSize = s.Intermediate, MaxPositionEmbeddings = s.MaxLength, NumLabels = train.LabelNames.Count,
            PadTokenId = tokenizer.PadId,
        };
        using var teacher = TrainTeacher(s, teacherConfig, trainSource, devSource, log, cancellationToken);
        var teacherAccuracy = Accuracy(teacher, devSource);
        var rows = new List<ResultRow> { new("teacher", -1, teacherAccuracy, teacher.ParameterCount, Latency(teacher, devSource), 0) };
        log.WriteLine($"teacher: {teacher.Config.NumHiddenLayers} layers, accuracy {teacherAccuracy:F4}, {teacher.ParameterCount:N0} parameters");

        var studentConfig = teacher.Config with { NumHiddenLayers = Math.Max(1, teacher.Config.NumHiddenLayers / 2) };
        var map = LayerMap.Uniform(studentConfig.NumHiddenLayers, teacher.Config.NumHiddenLayers);
        foreach (var seed in s.Seeds)
        {
            foreach (var method in s.Methods)
            {
                cancellationToken.ThrowIfCancellationRequested();
                random.manual_seed(1000 + seed);
                using var student = new BertForSequenceClassification(studentConfig);
                if (s.InitFromTeacher)
                {
                    CopyFromTeacher(teacher, student, map);
                }

                var watch = Stopwatch.StartNew();
                var accuracy = TrainStudent(method, seed, s, teacher, student, map, trainSource, devSource, cancellationToken);
                watch.Stop();
                rows.Add(new ResultRow(method, seed, accuracy, student.ParameterCount, Latency(student, devSource), watch.Elapsed.TotalSeconds));
                log.WriteLine($"{method,-13} seed {seed}: accuracy {accuracy:F4} ({watch.Elapsed.TotalSeconds:F0} s)");
            }
        }

        log.WriteLine();
        log.WriteLine($"| model | layers | parameters | dev accuracy (mean +- std over {s.Seeds.Length} seeds) | latency ms / sentence |");
        log.WriteLine("|---|---|---|---|---|");
        foreach (var group in rows.GroupBy(r => r.Method))
        {
            var acc = group.Select(r => r.Accuracy).ToArray();
            var mean = acc.Average();
            var std = acc.Length > 1 ? Math.Sqrt(acc.Sum(a => (a - mean) * (a - mean)) / (acc.Length - 1)) : 0;
            var layers = group.Key == "teacher" ? teacher.Config.NumHiddenLayers : studentConfig.NumHiddenLayers;
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key} | {layers} | {group.First().Parameters:N0} | {mean * 100:F2} +- {std * 100:F2} | {group.Average(r => r.LatencyMs):F3} |"));
        }

        File.WriteAllText(Path.Combine(s.OutputDirectory, "results.json"), JsonSerializer.Serialize(new { settings = s, load = Load(), rows }, new JsonSerializerOptions { WriteIndented = true }));
    }

    private static BertForSequenceClassification TrainTeacher(TextSettings s, BertConfig config, TextBatchSource train, TextBatchSource dev, TextWriter log, CancellationToken cancellationToken)
    {
        if (s.TeacherCheckpoint is not null)
        {
            return HuggingFaceBert.Load(s.TeacherCheckpoint);
        }

        var saved = Path.Combine(s.OutputDirectory, "teacher");
        if (File.Exists(Path.Combine(saved, HuggingFaceBert.WeightsFileName)))
        {
            var loaded = HuggingFaceBert.Load(saved);
            if (loaded.Config with { } == config)
            {
                log.WriteLine($"teacher loaded from {saved}");
                return loaded;
            }

            loaded.Dispose();
        }

        random.manual_seed(7);
        var teacher = new BertForSequenceClassification(config);
        using (var run = new Distiller(new[] { Student.FromModule(teacher, "student") }, new CrossEntropyLoss(), Options(s.TeacherEpochs, 7, s.Threads)))
        {
            var watch = Stopwatch.StartNew();
            run.Fit(train, dev, cancellationToken);
            log.WriteLine($"teacher trained in {watch.Elapsed.TotalSeconds:F0} s");
        }

        HuggingFaceBert.Save(teacher, saved);
        return teacher;
    }

    private static double TrainStudent(
        string method, int seed, TextSettings s, BertForSequenceClassification teacherModel, BertForSequenceClassification studentModel,
        LayerMap map, TextBatchSource train, TextBatchSource dev, CancellationToken cancellationToken)
    {
        using var student = Student.FromModule(studentModel);
        using var teacher = Teacher.FromModule(teacherModel);
        var options = Options(s.StudentEpochs, 100 + seed, s.Threads);
        var perStage = Math.Max(1, s.StudentEpochs / 2 / Math.Max(1, map.Count));
        // The soft-label stage gets the same epochs as the KD baseline; the internal stages come first, on top (the paper's protocol).
        var internalOptions = new InternalDistillationOptions { EpochsPerStage = perStage, Temperature = 1.0, Alpha = 0.5, KdEpochs = s.StudentEpochs };
        using var run = method switch
        {
            "alone" => new Distiller(new[] { student }, new CrossEntropyLoss(), options),
            "kd" => new Distiller(new IDistillationModel[] { student, teacher }, Loss.Hinton(1.0, 0.5), options),
            "internal-all" => new Distiller(new IDistillationModel[] { student, teacher },
                TransformerRecipes.InternalDistillation(map, internalOptions with { Schedule = InternalDistillationSchedule.AllLayers, EpochsPerStage = s.StudentEpochs / 2 }), options),
            "pid" => new Distiller(new IDistillationModel[] { student, teacher },
                TransformerRecipes.InternalDistillation(map, internalOptions with { Schedule = InternalDistillationSchedule.Progressive }), options),
            "sid" => new Distiller(new IDistillationModel[] { student, teacher },
                TransformerRecipes.InternalDistillation(map, internalOptions with { Schedule = InternalDistillationSchedule.Stacked }), options),
            _ => throw new ArgumentException($"Unknown method '{method}'.", nameof(method)),
        };
        var fit = run.Fit(train, dev, cancellationToken);
        return fit.History[^1].EvalMetrics["student"]["accuracy"];
    }

    private static DistillerOptions Options(int epochs, int seed, int threads) => new()
    {
        Epochs = epochs,
        Seed = seed,
        Threads = threads,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-3, WeightDecay = 0.01 },
        LearningRateSchedule = new LearningRateScheduleOptions { Kind = LearningRateScheduleKind.Cosine },
        MaxGradNorm = 1.0,
        EvaluateEveryEpochs = 1,
    };

    private static void CopyFromTeacher(BertForSequenceClassification teacher, BertForSequenceClassification student, LayerMap map)
    {
        var source = teacher.state_dict();
        using var noGrad = no_grad();
        foreach (var (name, value) in student.state_dict())
        {
            var from = name;
            const string prefix = "bert.encoder.layer.";
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                var rest = name[prefix.Length..];
                var layer = int.Parse(rest[..rest.IndexOf('.', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
                var teacherLayer = map.Pairs.Single(p => p.Student == layer + 1).Teacher - 1;
                from = prefix + teacherLayer.ToString(CultureInfo.InvariantCulture) + rest[rest.IndexOf('.', StringComparison.Ordinal)..];
            }

            value.copy_(source[from]);
        }
    }

    private static double Accuracy(BertForSequenceClassification model, TextBatchSource dev)
    {
        model.eval();
        using var noGrad = no_grad();
        long correct = 0;
        foreach (var batch in dev.GetBatches(0, CPU))
        {
            using var scope = NewDisposeScope();
            correct += model.call(batch.Inputs).Logits!.argmax(1).eq(batch.Targets!).sum().item<long>();
        }

        return correct / (double)dev.SampleCount;
    }

    /// <summary>Milliseconds per sentence of a no-grad forward over the first 20 dev batches: one warm-up pass, then the
    /// fastest of five timed passes (as timeit does: load from other processes only ever adds time, so the minimum is the
    /// least disturbed estimate on a shared machine).</summary>
    private static double Latency(BertForSequenceClassification model, TextBatchSource dev)
    {
        model.eval();
        using var noGrad = no_grad();
        using var batchScope = NewDisposeScope();
        var batches = dev.GetBatches(0, CPU).Take(20).ToList();
        long sentences = batches.Sum(b => (long)b.Size);
        var passes = new List<double>();
        for (var pass = 0; pass < 6; pass++)
        {
            var watch = Stopwatch.StartNew();
            foreach (var batch in batches)
            {
                using var scope = NewDisposeScope();
                model.call(batch.Inputs);
            }

            if (pass > 0)
            {
                passes.Add(watch.Elapsed.TotalMilliseconds / sentences);
            }
        }

        return passes.Min();
    }

    private static TextClassificationData Limit(TextClassificationData data, int limit) =>
        limit <= 0 || limit >= data.Count ? data
        : new TextClassificationData(data.Texts.Take(limit).ToArray(), data.Labels.Take(limit).ToArray(), data.LabelNames);

    private static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "unknown";

    private sealed record ResultRow(string Method, int Seed, double Accuracy, long Parameters, double LatencyMs, double TrainSeconds);
}
