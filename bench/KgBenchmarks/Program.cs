// Speed of filtered link prediction and of KGE training, to compare with bench/kg_speed.py (PyTorch) on the same machine.
// usage: KgBenchmarks DATA_DIR [dim=500] [repeats=5] [eval_batch=512] [train_triples=20480] [train_batch=512] [negatives=128]
using System.Diagnostics;
using System.Globalization;
using KnowledgeDistillation;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.KnowledgeGraphs;
using static TorchSharp.torch;

var inv = CultureInfo.InvariantCulture;
int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], inv) : fallback;
var dir = args.Length > 0 ? args[0] : "../shared/data/kg/WN18RR";
var (dim, repeats, evalBatch, trainTriples, trainBatch, negatives) = (Arg(1, 500), Arg(2, 5), Arg(3, 512), Arg(4, 20480), Arg(5, 512), Arg(6, 128));

if (Environment.GetEnvironmentVariable("KG_THREADS") is { Length: > 0 } threads)
{
    set_num_threads(int.Parse(threads, inv));
}
var graph = KnowledgeGraph.Load(dir);
Console.WriteLine($"torchsharp threads={get_num_threads()} entities={graph.EntityCount} test={graph.Test.Count}");
random.manual_seed(0);
using var model = new DistMult(graph.EntityCount, graph.RelationCount, dim);
var evaluator = LinkPredictionEvaluator.For(graph, evalBatch);

var evalTimes = new List<double>();
LinkPredictionResult? result = null;
for (var i = 0; i <= repeats; i++)
{
    var clock = Stopwatch.StartNew();
    result = evaluator.Evaluate(model, graph.Test);
    if (i > 0)
    {
        evalTimes.Add(clock.Elapsed.TotalSeconds);   // the first run is a warm-up
    }
}
Console.WriteLine($"eval: {result} times {string.Join(" ", evalTimes.Select(t => t.ToString("F3", inv)))}");

var subset = graph.Train.Take(trainTriples).ToArray();
var trainTimes = new List<double>();
for (var i = 0; i <= Math.Max(1, repeats / 2); i++)
{
    using var student = KgeParticipant.Student(model);
    var distiller = new Distiller(new[] { student }, new SelfAdversarialLoss(), new DistillerOptions
    {
        Epochs = 1,
        Seed = 0,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, LearningRate = 1e-3, WeightDecay = 0 },
    });
    distiller.Metrics.Clear();
    var clock = Stopwatch.StartNew();
    distiller.Fit(new TripleBatchSource(subset, graph.EntityCount, trainBatch, negatives, seed: i, mode: CorruptionMode.Alternate));
    if (i > 0)
    {
        trainTimes.Add(clock.Elapsed.TotalSeconds);
    }
}
// Inference speed of a DualDE-sized pair: filtered test evaluation of a ComplEx teacher (dim 500) and student (dim 64).
var pairTimes = new Dictionary<int, List<double>>();
foreach (var d in new[] { 500, 64 })
{
    using var complex = new ComplEx(graph.EntityCount, graph.RelationCount, d);
    pairTimes[d] = new List<double>();
    for (var i = 0; i <= Math.Max(1, repeats / 2); i++)
    {
        var clock = Stopwatch.StartNew();
        evaluator.Evaluate(complex, graph.Test);
        if (i > 0)
        {
            pairTimes[d].Add(clock.Elapsed.TotalSeconds);
        }
    }
    Console.WriteLine($"ComplEx dim {d}: {complex.ParameterCount} parameters, eval times {string.Join(" ", pairTimes[d].Select(t => t.ToString("F3", inv)))}");
}
Console.WriteLine(string.Format(inv, "RESULT complex_pair teacher500_s={0:F3} student64_s={1:F3} speedup={2:F2}", Median(pairTimes[500]), Median(pairTimes[64]), Median(pairTimes[500]) / Median(pairTimes[64])));

static double Median(List<double> v)
{
    var s = v.Order().ToArray();
    return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
}
Console.WriteLine($"train: {subset.Length} triples, batch {trainBatch}, {negatives} negatives, times {string.Join(" ", trainTimes.Select(t => t.ToString("F3", inv)))}");
Console.WriteLine(string.Format(inv, "RESULT torchsharp eval_s={0:F3} mrr={1:F5} train_triples_per_s={2:F0}", Median(evalTimes), result!.Mrr, subset.Length / Median(trainTimes)));
