using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FashionMnistDistillation;

/// <summary>Summarises runs (mean ± sample std over seeds) and writes the table, raw per-seed results and a plot.</summary>
internal static class Report
{
    private static readonly string[] Order = { "teacher", "student alone", "student + KD" };

    public static IReadOnlyList<(string Model, int Runs, double Mean, double Std)> Summarise(IReadOnlyList<RunResult> results) =>
        results.GroupBy(r => r.Model)
            .OrderBy(g => Array.IndexOf(Order, g.Key))
            .Select(g =>
            {
                var values = g.Select(r => r.FinalAccuracy).ToArray();
                return (g.Key, values.Length, values.Average(), SampleStd(values));
            })
            .ToArray();

    public static string Table(IReadOnlyList<RunResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| model | runs | test accuracy (mean ± std) |");
        text.AppendLine("|---|---|---|");
        foreach (var (model, runs, mean, std) in Summarise(results))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"| {model} | {runs} | {mean * 100:F2} ± {std * 100:F2} % |");
        }

        return text.ToString();
    }

    public static void WriteRaw(IReadOnlyList<RunResult> results, ExperimentSettings settings, string directory)
    {
        Directory.CreateDirectory(directory);
        var csv = new StringBuilder("model,seed,epoch,test_accuracy,seconds\n");
        foreach (var run in results)
        {
            for (var e = 0; e < run.TestAccuracyPerEpoch.Count; e++)
            {
                csv.AppendLine(CultureInfo.InvariantCulture, $"{run.Model},{run.Seed},{e + 1},{run.TestAccuracyPerEpoch[e]:F4},{run.Seconds:F1}");
            }
        }

        File.WriteAllText(Path.Combine(directory, $"{FileStem(settings)}.csv"), csv.ToString());
        var json = JsonSerializer.Serialize(
            new
            {
                settings = new { settings.Student, settings.CacheTeacher, settings.TeacherEpochs, settings.StudentEpochs, settings.Seeds, settings.Temperature, settings.Alpha, settings.LearningRate, settings.BatchSize, settings.TrainLimit, settings.StudentTrainLimit, settings.Device },
                machine = new { Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription, dotnet = Environment.Version.ToString() },
                runs = results,
                summary = Summarise(results).Select(s => new { model = s.Model, runs = s.Runs, mean = s.Mean, std = s.Std }),
            },
            new JsonSerializerOptions { WriteIndented = true });
        File.WriteAllText(Path.Combine(directory, $"{FileStem(settings)}.json"), json);
    }

    private static string FileStem(ExperimentSettings s) =>
        string.Create(CultureInfo.InvariantCulture, $"fashion-mnist-kd-{s.Student}-T{s.Temperature}-a{s.Alpha}-e{s.StudentEpochs}-s{s.Seeds.Length}{(s.StudentTrainLimit is { } n ? $"-n{n}" : "")}");

    public static void Plot(IReadOnlyList<RunResult> results, string file)
    {
        var plot = new ScottPlot.Plot();
        var colors = new Dictionary<string, ScottPlot.Color>
        {
            ["student alone"] = ScottPlot.Colors.SteelBlue,
            ["student + KD"] = ScottPlot.Colors.OrangeRed,
        };
        foreach (var group in results.Where(r => colors.ContainsKey(r.Model)).GroupBy(r => r.Model))
        {
            var first = true;
            foreach (var run in group)
            {
                var xs = Enumerable.Range(1, run.TestAccuracyPerEpoch.Count).Select(e => (double)e).ToArray();
                var ys = run.TestAccuracyPerEpoch.Select(a => a * 100).ToArray();
                var line = plot.Add.Scatter(xs, ys);
                line.Color = colors[group.Key];
                if (first)
                {
                    line.LegendText = group.Key;
                    first = false;
                }
            }
        }

        var teacher = results.FirstOrDefault(r => r.Model == "teacher");
        if (teacher is not null)
        {
            var line = plot.Add.HorizontalLine(teacher.FinalAccuracy * 100);
            line.Color = ScottPlot.Colors.Gray;
            line.LinePattern = ScottPlot.LinePattern.Dashed;
            line.LegendText = "teacher";
        }

        plot.Title("Fashion-MNIST: student test accuracy per epoch");
        plot.XLabel("epoch");
        plot.YLabel("test accuracy (%)");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        plot.SavePng(file, 800, 500);
    }

    private static double SampleStd(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
        {
            return 0;
        }

        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}
