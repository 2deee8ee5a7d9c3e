// Trains GNN teachers on a gnn-benchmark .npz graph (Cora by default), distils each into the CPF student
// (inductive and transductive), and prints the accuracy table.
//   dotnet run --project samples/CoraDistillation -c Release -- [path.npz] [--teachers gcn,gat,...] [--seeds 0,1,...] [--json out.json]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KnowledgeDistillation.Engine;
using KnowledgeDistillation.Graph.Graphs;
using KnowledgeDistillation.Tuning;
using static TorchSharp.torch;

var path = "../shared/data/graphs/cora.npz";
var kinds = new[] { GnnKind.Gcn };
var seeds = new[] { 0 };
string? json = null;
var tracking = "output/cora";
var threads = 1;
var patience = 50;
var studentLr = 5e-3;
var teacherTies = BestEpochTieBreak.First;
var searchTrials = 0;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--teachers":
            kinds = args[++i] == "all" ? Enum.GetValues<GnnKind>() : args[i].Split(',').Select(k => Enum.Parse<GnnKind>(k, ignoreCase: true)).ToArray();
            break;
        case "--seeds":
            seeds = args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            break;
        case "--threads":
            threads = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--patience":
            patience = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--student-lr":
            studentLr = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--teacher-ties":
            teacherTies = args[++i] switch
            {
                "first" => BestEpochTieBreak.First,
                "last" => BestEpochTieBreak.Last,
                var other => throw new ArgumentException($"--teacher-ties must be 'first' or 'last', not '{other}'."),
            };
            break;
        case "--search":
            searchTrials = int.Parse(args[++i], CultureInfo.InvariantCulture);
            if (searchTrials < 0)
            {
                Console.Error.WriteLine("--search needs a number of trials >= 0.");
                return 2;
            }

            break;
        case "--json":
            json = args[++i];
            break;
        case "--tracking":
            tracking = args[++i];
            break;
        case "--help" or "-h":
            Console.WriteLine("usage: CoraDistillation [path.npz] [--teachers gcn,gat,appnp,graphsage,sgc,gcnii,glp|all] [--seeds 0,1,2] [--json results.json] [--threads 1] [--patience 50] [--student-lr 5e-3] [--teacher-ties first|last] [--search N] [--tracking output/cora]");
            Console.WriteLine("  --search N: per teacher, variant and seed, a random search of N trials over CPF's grid (K 5-10, hidden 8/16/32/64, feature and attention dropout 0.2/0.5/0.8, lr 1e-3/5e-3/1e-2, weight decay 5e-4/1e-3/1e-2), scored on validation accuracy (resumable: TRACKING/search-*.jsonl); the selected configuration is trained again and reported");
            return 0;
        default:
            path = args[i];
            break;
    }
}

set_num_threads(threads);

// One full-graph step per epoch and up to hundreds of epochs: a progress summary every 50 epochs (and the last).
var progress = new ConsoleProgressOptions { SummaryEveryEpochs = 50 };
var clock = Stopwatch.StartNew();
var graph = NpzGraphReader.Read(path).Standardize();
Console.WriteLine($"{Path.GetFileName(path)}: {graph.NodeCount} nodes (largest component), {graph.Adjacency.EntryCount / 2} edges, {graph.FeatureCount} features, {graph.ClassCount} classes; load {clock.Elapsed.TotalSeconds:F1}s");
var adjacency = GraphAdjacency.FromDataset(graph);
var rows = new List<Row>();
foreach (var seed in seeds)
{
    using var data = new GraphBatchSource(graph, GraphSplit.Cpf(graph.Labels, seed));
    foreach (var kind in kinds)
    {
        manual_seed(seed);
        using var teacherNet = GnnTeachers.Create(kind, adjacency, graph.FeatureCount, graph.ClassCount);
        var teacher = GraphTraining.FitTeacher(teacherNet, data, GnnTeachers.TrainingOptions(kind, seed) with { Threads = threads, TieBreak = teacherTies, Callbacks = RunTracking.For(tracking, $"{kind}-teacher-seed{seed}", progress, replaceExisting: true) });
        using var stored = StoredPredictions.From(teacherNet, data.Features);
        rows.Add(new Row(kind.ToString(), "teacher", seed, teacher.TestAccuracy, teacher.ValidationAccuracy, teacher.Epochs, teacher.WallTime.TotalSeconds));
        var confidence = stored.Logits.softmax(1).max(1).values.mean().item<float>();
        Console.WriteLine($"seed {seed} {kind,-9} teacher  test {teacher.TestAccuracy:P2} val {teacher.ValidationAccuracy:P2} ({teacher.Epochs} epochs, best {teacher.BestEpoch + 1}, {teacher.WallTime.TotalSeconds:F1}s; mean max-probability {confidence:F3})");
        foreach (var variant in new[] { CpfVariant.Inductive, CpfVariant.Transductive })
        {
            var cpf = new CpfOptions { Variant = variant };
            var (lr, wd) = (studentLr, 1e-2);
            if (searchTrials > 0)
            {
                // CPF's grid (the paper's search), scored on validation accuracy; every trial starts from the seed.
                var space = new SearchSpace().Integer("layers", 5, 10).Categorical("hidden", 8, 16, 32, 64)
                    .Categorical("feat_drop", 0.2, 0.5, 0.8).Categorical("attn_drop", 0.2, 0.5, 0.8)
                    .Categorical("lr", 1e-3, 5e-3, 1e-2).Categorical("wd", 5e-4, 1e-3, 1e-2);
                Directory.CreateDirectory(tracking);
                var search = new HyperparameterSearch(space, new HyperparameterSearchOptions
                {
                    MaxTrials = searchTrials,
                    Seed = seed,
                    ResultsPath = Path.Combine(tracking, $"search-{kind}-{variant}-seed{seed}.jsonl"),
                });
                var found = search.Run((trial, ct) =>
                {
                    var options = cpf with
                    {
                        Layers = trial.GetInt("layers"), Hidden = trial.GetInt("hidden"),
                        FeatureDropout = trial.GetDouble("feat_drop"), AttentionDropout = trial.GetDouble("attn_drop"),
                    };
                    manual_seed(seed);
                    using var candidate = new CpfStudent(adjacency, graph.FeatureCount, graph.ClassCount, data.Labels, data.Split.Train, options);
                    return GraphTraining.FitCpf(candidate, stored, data, new GraphTrainingOptions { LearningRate = trial.GetDouble("lr"), WeightDecay = trial.GetDouble("wd"), Seed = seed, Patience = patience, Threads = threads }, cancellationToken: ct).ValidationAccuracy;
                });
                var best = found.BestParameters ?? throw new InvalidOperationException("Every search trial failed; see the log.");
                cpf = cpf with { Layers = best.GetInt("layers"), Hidden = best.GetInt("hidden"), FeatureDropout = best.GetDouble("feat_drop"), AttentionDropout = best.GetDouble("attn_drop") };
                (lr, wd) = (best.GetDouble("lr"), best.GetDouble("wd"));
                Console.WriteLine($"seed {seed} {kind,-9} {variant}: search selected {best} (validation {found.BestScore:P2}; {found.TrialsRun} trials run, {found.TrialsLoaded} read back)");
            }

            manual_seed(seed);
            using var studentNet = new CpfStudent(adjacency, graph.FeatureCount, graph.ClassCount, data.Labels, data.Split.Train, cpf);
            var student = GraphTraining.FitCpf(studentNet, stored, data, new GraphTrainingOptions { LearningRate = lr, WeightDecay = wd, Seed = seed, Patience = patience, Threads = threads, Callbacks = RunTracking.For(tracking, $"{kind}-{variant}-seed{seed}", progress, replaceExisting: true) });
            var name = variant == CpfVariant.Inductive ? "CPF-ind" : "CPF-tra";
            rows.Add(new Row(kind.ToString(), name, seed, student.TestAccuracy, student.ValidationAccuracy, student.Epochs, student.WallTime.TotalSeconds));
            Console.WriteLine($"seed {seed} {kind,-9} {name}  test {student.TestAccuracy:P2} val {student.ValidationAccuracy:P2} ({student.Epochs} epochs, {student.WallTime.TotalSeconds:F1}s)");
        }
    }
}

Console.WriteLine();
Console.WriteLine($"Test accuracy (%), mean ± std over {seeds.Length} seed(s), CPF split (20/30 per class):");
Console.WriteLine("| Teacher | Teacher | CPF-ind | CPF-tra | Δ ind | Δ tra |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var kind in kinds.Select(k => k.ToString()))
{
    string Cell(string model)
    {
        var v = rows.Where(r => r.Teacher == kind && r.Model == model).Select(r => 100 * r.Test).ToArray();
        return $"{v.Average():F2} ± {Std(v):F2}";
    }

    double Mean(string model) => rows.Where(r => r.Teacher == kind && r.Model == model).Average(r => 100 * r.Test);
    Console.WriteLine($"| {kind} | {Cell("teacher")} | {Cell("CPF-ind")} | {Cell("CPF-tra")} | {Mean("CPF-ind") - Mean("teacher"):+0.00;-0.00} | {Mean("CPF-tra") - Mean("teacher"):+0.00;-0.00} |");
}

Console.WriteLine($"total wall time {clock.Elapsed.TotalSeconds:F1}s");
if (json is not null)
{
    File.WriteAllText(json, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
}

return 0;

static double Std(double[] v) => v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Length - 1));

internal sealed record Row(string Teacher, string Model, int Seed, double Test, double Validation, int Epochs, double Seconds);
