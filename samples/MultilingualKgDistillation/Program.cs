using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;
using Microsoft.Extensions.Logging;
using MultilingualKgDistillation;

// KEnS (Chen et al., Findings of EMNLP 2020) on DBP-5L: per seed, every language's model trained alone (the single-KG
// baseline), then all five trained together with the alignment term and CSLS self-learning, and evaluated per target
// language alone and with the KEnS_m / KEnS_mrr / KEnS_b ensembles.
Settings? settings;
try
{
    settings = Settings.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}
if (settings is null)
{
    Console.WriteLine(Settings.Help);
    return 0;
}
using var loggerFactory = LoggerFactory.Create(b => b
    .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
    .AddFilter(typeof(Distiller).FullName, LogLevel.Warning));
var logger = loggerFactory.CreateLogger("MultilingualKgDistillation");
var graph = Dbp5lReader.Load(settings.Data, settings.Languages);
foreach (var l in graph.Languages)
{
    logger.LogInformation("{Lang}: {Entities} entities, {Train}/{Valid}/{Test} triples", l, graph[l].EntityCount, graph[l].Train.Count, graph[l].Valid.Count, graph[l].Test.Count);
}
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

// Validation triples used to learn the ensemble weights (capped to bound the run time; a fixed, seeded sample).
var valid = graph.Languages.ToDictionary(l => l, l =>
{
    var v = graph[l].Valid.ToArray();
    new Random(12345).Shuffle(v);
    return (IReadOnlyList<Triple>)v.Take(settings.MaxValid).ToArray();
});

var rows = new List<ResultRow>();
foreach (var seed in settings.Seeds)
{
    TorchSharp.torch.manual_seed(seed);
    var alone = Models(seed);
    var clock = Stopwatch.StartNew();
    Train(alone, null, seed);
    var aloneSeconds = clock.Elapsed.TotalSeconds;
    var joint = Models(seed);
    clock.Restart();
    var run = Train(joint, settings.AlignmentWeight, seed);
    var jointSeconds = clock.Elapsed.TotalSeconds;
    logger.LogInformation("seed {Seed}: alone {Alone:F0}s, KEnS {Joint:F0}s; alignment sizes {Sizes}", seed, aloneSeconds, jointSeconds,
        string.Join(", ", graph.Pairs.Select((p, i) => $"{p.A}-{p.B} {run.Alignment!.Alignments[i].Count}")));
    var aloneEvaluator = new KensEvaluator(graph, alone, k: settings.K);
    var evaluator = new KensEvaluator(graph, joint, run.Alignment!.Alignments, settings.K);
    foreach (var target in settings.Targets ?? graph.Languages)
    {
        clock.Restart();
        using var single = aloneEvaluator.Predict(target, graph[target].Test, cancel.Token);
        using var validation = evaluator.Predict(target, valid[target], cancel.Token);
        var weights = KensEvaluator.LearnWeights(validation);
        using var test = evaluator.Predict(target, graph[target].Test, cancel.Token);
        var report = KensEvaluator.Report(test, weights);
        var alone1 = EnsembleScoring.Summarise(single.Ranks[graph.Languages.ToList().IndexOf(target)]);
        logger.LogInformation("seed {Seed} {Target}: alone {Alone} | in KEnS {Single} | KEnS_m {M} | KEnS_mrr {Mrr} | KEnS_b {B} ({S:F0}s)",
            seed, target, alone1, report.Single, report.Majority, report.Mrr, report.Boosted, clock.Elapsed.TotalSeconds);
        rows.Add(new ResultRow(seed, target, "single-KG alone", alone1));
        rows.Add(new ResultRow(seed, target, "target model in KEnS", report.Single));
        rows.Add(new ResultRow(seed, target, "KEnS_m", report.Majority));
        rows.Add(new ResultRow(seed, target, "KEnS_mrr", report.Mrr));
        rows.Add(new ResultRow(seed, target, "KEnS_b", report.Boosted));
    }
    foreach (var m in alone.Values.Concat(joint.Values))
    {
        m.Dispose();
    }
}

var inv = CultureInfo.InvariantCulture;
string Stat(IEnumerable<double> values)
{
    var v = values.Select(x => 100 * x).ToArray();
    var mean = v.Average();
    var std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
    return string.Format(inv, "{0:F1} ± {1:F1}", mean, std);
}
Console.WriteLine();
Console.WriteLine($"{settings.Model} dim {settings.Dim}, {settings.Epochs} epochs, seeds {string.Join(",", settings.Seeds)} (tail prediction, train-filtered, k = {settings.K}; % mean ± std over seeds)");
Console.WriteLine("| target | method | Hits@1 | Hits@10 | MRR |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var group in rows.GroupBy(r => (r.Target, r.Method)))
{
    Console.WriteLine($"| {group.Key.Target} | {group.Key.Method} | {Stat(group.Select(r => r.Metrics.Hits1))} | {Stat(group.Select(r => r.Metrics.Hits10))} | {Stat(group.Select(r => r.Metrics.Mrr))} |");
}
if (settings.Output is { } output)
{
    File.WriteAllText(output, JsonSerializer.Serialize(new { settings, rows }, new JsonSerializerOptions { WriteIndented = true }));
}
return 0;

Dictionary<string, KgeModel> Models(int seed)
{
    TorchSharp.torch.manual_seed(seed);
    return graph.Languages.ToDictionary(l => l, l => settings.Model switch
    {
        "TransE" => (KgeModel)new TransE(graph[l].EntityCount, graph.RelationCount, settings.Dim, settings.Margin, norm: 2),
        "RotatE" => new RotatE(graph[l].EntityCount, graph.RelationCount, settings.Dim, settings.Margin),
        _ => throw new ArgumentException($"Unknown model '{settings.Model}': use TransE or RotatE."),
    });
}

KensRun Train(Dictionary<string, KgeModel> models, double? alignmentWeight, int seed)
{
    var run = Kens.Build(graph, models, alignmentWeight, alignmentWeight is null ? null : settings.SelfLearningEvery, settings.AdversarialTemperature,
        loggerFactory.CreateLogger("KEnS"), settings.SelfLearningCandidates);
    var data = new MultilingualBatchSource(graph, settings.BatchSize, settings.Negatives, settings.KnowledgeStepsPerAlignment, seed, alignmentSteps: alignmentWeight is not null);
    using var distiller = new Distiller(run.Participants, run.Loss, new DistillerOptions
    {
        Epochs = settings.Epochs,
        Seed = seed,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = settings.LearningRate, WeightDecay = 0 },
        Threads = settings.Threads ?? DistillerOptions.DefaultThreads,
    }, loggerFactory.CreateLogger<Distiller>());
    var fit = distiller.Fit(data, cancellationToken: cancel.Token);
    var last = fit.History[^1];
    logger.LogInformation("{Kind} seed {Seed}: last epoch loss {Loss:F4} ({Parts})", alignmentWeight is null ? "alone" : "KEnS", seed, last.Loss,
        string.Join(", ", last.LossParts.Select(p => FormattableString.Invariant($"{p.Key} {p.Value:F4}"))));
    // The distiller owns (and disposes) the loss; the alignment state must outlive it for evaluation, so copy it out.
    return run with { Alignment = run.Alignment is null ? null : Snapshot(run.Alignment, models) };
}

AlignmentLoss Snapshot(AlignmentLoss trained, Dictionary<string, KgeModel> models)
{
    var copy = new AlignmentLoss(graph, models);
    var exported = trained.Alignments.Export();
    copy.Alignments.Import(exported);
    foreach (var t in exported.Values)
    {
        t.Dispose();
    }
    return copy;
}

namespace MultilingualKgDistillation
{
    /// <summary>One (seed, target, method) result.</summary>
    internal sealed record ResultRow(int Seed, string Target, string Method, EnsembleMetrics Metrics);
}
