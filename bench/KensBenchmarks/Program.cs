// KEnS ensemble evaluation over all five DBP-5L languages (KensEvaluator.Predict + EnsembleScoring.Ranks, KEnS_m), to
// compare with bench/kens_speed.py (PyTorch) on the same machine. Embeddings are a fixed formula shared with the Python
// script, so both print the same metrics.
// usage: KensBenchmarks DATA_DIR [dim=64] [repeats=2] [batch=256] [k=10] [queries=all: test triples per language]
using System.Diagnostics;
using System.Globalization;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using KnowledgeDistillation.Graph.KnowledgeGraphs.Multilingual;
using static TorchSharp.torch;

var inv = CultureInfo.InvariantCulture;
int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], inv) : fallback;
var dir = args.Length > 0 ? args[0] : "../shared/data/kg/dbp5l";
var (dim, repeats, batch, k, queries) = (Arg(1, 64), Arg(2, 2), Arg(3, 256), Arg(4, 10), Arg(5, int.MaxValue));
if (Environment.GetEnvironmentVariable("KG_THREADS") is { Length: > 0 } threads)
{
    set_num_threads(int.Parse(threads, inv));
}
var graph = Dbp5lReader.Load(dir);
var models = new Dictionary<string, KgeModel>();
using (no_grad())
{
    for (var li = 0; li < graph.Languages.Count; li++)
    {
        var l = graph.Languages[li];
        var model = new TransE(graph[l].EntityCount, graph.RelationCount, dim, margin: 6, norm: 2);
        var i = arange(graph[l].EntityCount, ScalarType.Float64).unsqueeze(1);
        var d = arange(dim, ScalarType.Float64).unsqueeze(0);
        model.EntityEmbeddings.copy_((0.1 * sin(0.37 * i + 1.3 * d + 0.11 * li)).to(ScalarType.Float32));
        var r = arange(graph.RelationCount, ScalarType.Float64).unsqueeze(1);
        model.RelationEmbeddings.copy_((0.1 * cos(0.7 * r + 0.5 * d)).to(ScalarType.Float32));
        models[l] = model;
    }
}
var evaluator = new KensEvaluator(graph, models, k: k, batchSize: batch);

Dictionary<string, (double Single, double Hits10, double Mrr)> Evaluate()
{
    var result = new Dictionary<string, (double, double, double)>();
    foreach (var target in graph.Languages)
    {
        var test = graph[target].Test.Take(queries).ToArray();
        var p = evaluator.Predict(target, test);
        var targetIndex = graph.Languages.ToList().IndexOf(target);
        var order = tensor(new[] { targetIndex }.Concat(Enumerable.Range(0, graph.Languages.Count).Where(j => j != targetIndex)).Select(j => (long)j).ToArray());
        using var ranks = EnsembleScoring.Ranks(p.Candidates.index_select(1, order), ones(graph.Languages.Count), tensor(test.Select(t => (long)t.Tail).ToArray()), graph[target].EntityCount);
        var m = EnsembleScoring.Summarise(ranks.data<double>().ToArray());
        var s = EnsembleScoring.Summarise(p.Ranks[targetIndex]);
        result[target] = (s.Hits10, m.Hits10, m.Mrr);
        p.Candidates.Dispose();
    }
    return result;
}

var times = new List<double>();
Dictionary<string, (double Single, double Hits10, double Mrr)>? last = null;
for (var i = 0; i <= repeats; i++)
{
    var clock = Stopwatch.StartNew();
    last = Evaluate();
    if (i > 0)
    {
        times.Add(clock.Elapsed.TotalSeconds);   // the first run is a warm-up
    }
}
Console.WriteLine($"torchsharp threads={get_num_threads()} dim={dim} " + string.Join(" ", last!.Select(kv => string.Format(inv, "{0}:single_h10={1:F4},m_h10={2:F4},m_mrr={3:F4}", kv.Key, kv.Value.Single, kv.Value.Hits10, kv.Value.Mrr))));
times.Sort();
Console.WriteLine(string.Format(inv, "RESULT torchsharp eval_s={0:F3} times={1}", times[times.Count / 2], string.Join(" ", times.Select(t => t.ToString("F3", inv)))));
