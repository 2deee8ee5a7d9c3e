// Speed benchmark for the graph module (docs/benchmarks.md, "Graph: CPF on Cora"):
//   1. the GCN teacher for a fixed number of epochs through Distiller.Fit (one training step + one evaluation per
//      epoch), to compare with gcn_torch.py (same model, optimiser and graph);
//   2. one full run: GCN teacher with early stopping, then CPF-ind and CPF-tra students.
//   dotnet run --project bench/GraphBenchmarks -c Release -- [path.npz] [epochs] [threads]
using System.Globalization;
using KnowledgeDistillation.Graph.Graphs;
using static TorchSharp.torch;

var path = args.Length > 0 ? args[0] : "../shared/data/graphs/cora.npz";
var epochs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 200;
set_num_threads(args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1);
var graph = NpzGraphReader.Read(path).Standardize();
var adjacency = GraphAdjacency.FromDataset(graph);
using var data = new GraphBatchSource(graph, GraphSplit.Cpf(graph.Labels, 0));

manual_seed(0);
using (var gcn = GnnTeachers.Create(GnnKind.Gcn, adjacency, graph.FeatureCount, graph.ClassCount))
{
    var fixedRun = GraphTraining.FitTeacher(gcn, data, GnnTeachers.TrainingOptions(GnnKind.Gcn, 0) with { MaxEpochs = epochs, Patience = epochs + 1 });
    Console.WriteLine($"torchsharp gcn: {graph.NodeCount} nodes, {fixedRun.Epochs} epochs, {fixedRun.WallTime.TotalSeconds:F2}s, " +
        $"{1000 * fixedRun.WallTime.TotalSeconds / fixedRun.Epochs:F2} ms/epoch, best val {fixedRun.ValidationAccuracy:F4} test {fixedRun.TestAccuracy:F4}");
}

manual_seed(0);
var clock = System.Diagnostics.Stopwatch.StartNew();
using var teacherNet = GnnTeachers.Create(GnnKind.Gcn, adjacency, graph.FeatureCount, graph.ClassCount);
var teacher = GraphTraining.FitTeacher(teacherNet, data, GnnTeachers.TrainingOptions(GnnKind.Gcn, 0));
using var stored = StoredPredictions.From(teacherNet, data.Features);
var line = $"full run: teacher {teacher.Epochs} epochs {teacher.WallTime.TotalSeconds:F1}s (test {teacher.TestAccuracy:F4})";
foreach (var variant in new[] { CpfVariant.Inductive, CpfVariant.Transductive })
{
    manual_seed(0);
    using var student = new CpfStudent(adjacency, graph.FeatureCount, graph.ClassCount, data.Labels, data.Split.Train, new CpfOptions { Variant = variant });
    var result = GraphTraining.FitCpf(student, stored, data, new GraphTrainingOptions { LearningRate = 5e-3, WeightDecay = 1e-2, Seed = 0 });
    line += $"; {variant} {result.Epochs} epochs {result.WallTime.TotalSeconds:F1}s ({1000 * result.WallTime.TotalSeconds / result.Epochs:F1} ms/epoch, test {result.TestAccuracy:F4})";
}

Console.WriteLine($"{line}; total {clock.Elapsed.TotalSeconds:F1}s");
