using System.Globalization;
using KnowledgeDistillation.Graph.Recommendation;
using Microsoft.Extensions.Logging;
using RecommenderDistillation;

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

TorchSharp.torch.set_num_threads(settings.Threads);
using var loggerFactory = LoggerFactory.Create(b => b
    .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
    .AddFilter(typeof(KnowledgeDistillation.Engine.Distiller).FullName, LogLevel.Warning));
var logger = loggerFactory.CreateLogger("RecommenderDistillation");
var options = new InteractionReaderOptions { PositiveThreshold = settings.Threshold > 0 ? settings.Threshold : null };
var data = InteractionReader.Read(settings.Data, options);
var split = InteractionSplit.RandomPerUser(data, 0.2, settings.SplitSeed);
logger.LogInformation("{Data}: {Users} users, {Items} items, {Train} train / {Test} test interactions (rating >= {Threshold})",
    settings.Data, split.UserCount, split.ItemCount, split.TrainCount, split.TestCount, settings.Threshold);
if (settings.Bench)
{
    Bench.Run(settings, split);
    return 0;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
var rows = new List<Row>();
foreach (var seed in settings.Seeds)
{
    rows.AddRange(new Experiment(settings, split, logger).Run(seed, cancel.Token));
}

var inv = CultureInfo.InvariantCulture;
string Stat(IEnumerable<double> values)
{
    var v = values.ToArray();
    var mean = v.Average();
    var std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
    return string.Format(inv, "{0:F4} ± {1:F4}", mean, std);
}
var teacherLatency = rows.Where(r => r.Method == "teacher").Average(r => r.SecondsPerUser);
Console.WriteLine();
Console.WriteLine($"BPR-MF on {settings.Data} (rating >= {settings.Threshold}), seeds {string.Join(",", settings.Seeds)}; mean ± std over seeds");
Console.WriteLine("| phi | method | d | embedding parameters | Recall@10 | Recall@50 | NDCG@10 | NDCG@50 | scoring µs/user (ratio vs teacher) | train s |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
foreach (var group in rows.GroupBy(r => (r.Phi, r.Method)))
{
    var g = group.ToArray();
    Console.WriteLine(string.Format(inv, "| {0} | {1} | {2} | {3:N0} | {4} | {5} | {6} | {7} | {8:F1} ({9:F2}) | {10:F0} |",
        group.Key.Method == "teacher" ? "1" : group.Key.Phi.ToString(inv), group.Key.Method, g[0].Dimension, g[0].Parameters,
        Stat(g.Select(r => r.Test.Recall[10])), Stat(g.Select(r => r.Test.Recall[50])), Stat(g.Select(r => r.Test.Ndcg[10])), Stat(g.Select(r => r.Test.Ndcg[50])),
        g.Average(r => r.SecondsPerUser) * 1e6, g.Average(r => r.SecondsPerUser) / teacherLatency, g.Average(r => r.TrainSeconds)));
}
return 0;
