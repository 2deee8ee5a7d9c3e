using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SelfSupervisedDistillation;

/// <summary>Aggregates runs/*.json into summary.md and runs.csv (mean ± sample std over seeds).</summary>
internal static class Summary
{
    public static void Write(string output, double teacherKnn, double teacherProbe)
    {
        var runs = Directory.GetFiles(Path.Combine(output, "runs"), "*.json")
            .Select(f => JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(f))!)
            .OrderBy(r => Array.IndexOf(Experiment.AllMethods, r.Method)).ThenBy(r => r.Seed).ToArray();
        var csv = new StringBuilder("method,seed,knn,linear_probe,train_seconds,steps,step_end_seconds,final_loss,load_start,load_end\n");
        foreach (var r in runs)
        {
            csv.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Method},{r.Seed},{r.Knn:F4},{r.LinearProbe:F4},{r.TrainSeconds:F1},{r.Steps},{r.StepEndSeconds:F3},{r.FinalLoss:F4},{r.LoadStart},{r.LoadEnd}"));
        }

        File.WriteAllText(Path.Combine(output, "runs.csv"), csv.ToString());
        var baseline = runs.Where(r => r.Method == "ssl").Select(StepMs).DefaultIfEmpty(double.NaN).Average();
        var md = new StringBuilder();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Teacher: k-NN {100 * teacherKnn:F2} %, linear probe {100 * teacherProbe:F2} %"));
        md.AppendLine();
        md.AppendLine("| method | seeds | k-NN (%) | linear probe (%) | ms / step | step vs SSL alone | step-end updates (% of step) |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var group in runs.GroupBy(r => r.Method))
        {
            var g = group.ToArray();
            var step = g.Select(StepMs).Average();
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {group.Key} | {g.Length} | {Format(g.Select(r => 100 * r.Knn))} | {Format(g.Select(r => 100 * r.LinearProbe))} | {step:F1} | {step / baseline:F2} | {100 * g.Sum(r => r.StepEndSeconds) / g.Sum(r => r.TrainSeconds):F2} |"));
        }

        File.WriteAllText(Path.Combine(output, "summary.md"), md.ToString());
        Console.WriteLine(md.ToString());
    }

    private static double StepMs(RunRecord r) => 1000 * r.TrainSeconds / r.Steps;

    private static string Format(IEnumerable<double> values)
    {
        var v = values.ToArray();
        var mean = v.Average();
        if (v.Length < 2)
        {
            return mean.ToString("F2", CultureInfo.InvariantCulture);
        }

        var std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return string.Create(CultureInfo.InvariantCulture, $"{mean:F2} ± {std:F2}");
    }
}
