using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeGraphDistillation;
using Microsoft.Extensions.Logging;

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

if (settings.Threads is { } threads)
{
    TorchSharp.torch.set_num_threads(threads);
}
// Epochs are shown by the console progress reporter (Tracking.cs), so the engine's own per-epoch logs are left out.
using var loggerFactory = LoggerFactory.Create(b => b
    .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
    .AddFilter(typeof(KnowledgeDistillation.Engine.Distiller).FullName, LogLevel.Warning));
var logger = loggerFactory.CreateLogger("KnowledgeGraphDistillation");
KnowledgeGraph graph;
try
{
    graph = KnowledgeGraph.Load(settings.Data);
}
catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
{
    // A missing file, an unreadable one or a malformed line: one line naming the file (and line), no stack trace.
    Console.Error.WriteLine($"Cannot load the knowledge graph in '{settings.Data}': {e.Message}");
    return 1;
}

logger.LogInformation("{Data}: {Entities} entities, {Relations} relations, {Train}/{Valid}/{Test} triples",
    settings.Data, graph.EntityCount, graph.RelationCount, graph.Train.Count, graph.Valid.Count, graph.Test.Count);
if (graph.Valid.Count == 0 && (settings.CalibrateTeacher || settings.ValidEvery > 0))
{
    Console.Error.WriteLine($"'{Path.Combine(settings.Data, "valid.txt")}' has no triples: --calibrate-teacher and --valid-every need validation triples (use --valid-every 0 without --calibrate-teacher to train without them).");
    return 2;
}
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

var rows = new List<Row>();
try
{
    for (var i = 0; i < settings.Seeds.Length; i++)
    {
        rows.AddRange(new Experiment(settings, graph, logger, loggerFactory.CreateLogger<KnowledgeDistillation.Engine.Distiller>()).Run(settings.Seeds[i], cancel.Token));
        WriteResults(complete: i == settings.Seeds.Length - 1);
    }
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("Cancelled.");
    return 130;
}

var inv = CultureInfo.InvariantCulture;
string Stat(IEnumerable<double> values)
{
    var v = values.ToArray();
    var mean = v.Average();
    var std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
    return v.Length > 1 ? string.Format(inv, "{0:F3} ± {1:F3}", mean, std) : string.Format(inv, "{0:F3}", mean);
}
var teacherEval = rows.Where(r => r.Method == "teacher").Average(r => r.EvalSeconds);
Console.WriteLine();
Console.WriteLine($"{settings.Model} on {settings.Data}, seeds {string.Join(",", settings.Seeds)} (filtered test, both directions; mean ± std over seeds)");
Console.WriteLine("| method | dim | parameters | MRR | Hits@1 | Hits@3 | Hits@10 | MR | eval time ratio vs teacher |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
foreach (var group in rows.GroupBy(r => r.Method))
{
    var g = group.ToArray();
    Console.WriteLine(string.Format(inv, "| {0} | {1} | {2:N0} | {3} | {4} | {5} | {6} | {7:F1} | {8:F2} |",
        group.Key, g[0].Dimension, g[0].Parameters, Stat(g.Select(r => r.Test.Mrr)), Stat(g.Select(r => r.Test.Hits1)),
        Stat(g.Select(r => r.Test.Hits3)), Stat(g.Select(r => r.Test.Hits10)), g.Average(r => r.Test.MeanRank), g.Average(r => r.EvalSeconds) / teacherEval));
}
if (settings.Output is { } path)
{
    Console.WriteLine($"wrote {path}");
}
return 0;

// The JSON is rewritten after every seed (write to a temporary file, then rename), so a run stopped part-way keeps the
// seeds it finished; "complete" says whether every seed of --seeds is in it.
void WriteResults(bool complete)
{
    if (settings.Output is not { } output)
    {
        return;
    }
    var full = Path.GetFullPath(output);
    Directory.CreateDirectory(Path.GetDirectoryName(full)!);
    var temporary = full + ".tmp";
    File.WriteAllText(temporary, JsonSerializer.Serialize(
        new { settings, date = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture), complete, rows },
        new JsonSerializerOptions { WriteIndented = true }));
    File.Move(temporary, full, overwrite: true);
}
