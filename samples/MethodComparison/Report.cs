using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MethodComparison;

/// <summary>Raw per-seed files, the aggregated table and the plot.</summary>
internal static class Report
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static string RunFile(ComparisonSettings s, string method, int seed) =>
        Path.Combine(s.RunsDirectory, string.Create(CultureInfo.InvariantCulture, $"{method}-seed{seed}.json"));

    public static void WriteRun(string file, MethodRun run)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(run, Json));
        File.Move(file + ".tmp", file, overwrite: true);
    }

    public static MethodRun ReadRun(string file) =>
        JsonSerializer.Deserialize<MethodRun>(File.ReadAllText(file), Json) ?? throw new InvalidDataException($"'{file}' holds no run.");

    /// <summary>Every run under <c>runs/</c> (segments run separately land there too).</summary>
    public static IReadOnlyList<MethodRun> ReadRuns(ComparisonSettings s) =>
        Directory.Exists(s.RunsDirectory)
            ? Directory.GetFiles(s.RunsDirectory, "*.json").OrderBy(f => f, StringComparer.Ordinal).Select(ReadRun).ToArray()
            : Array.Empty<MethodRun>();

    public static void WriteJson<T>(string file, T value)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
        File.WriteAllText(file, JsonSerializer.Serialize(value, Json));
    }

    public static T? ReadJson<T>(string file) => File.Exists(file) ? JsonSerializer.Deserialize<T>(File.ReadAllText(file), Json) : default;

    /// <summary>Writes summary.md / summary.csv / runs.csv / epochs.csv and the plot; returns the markdown table.</summary>
    public static string WriteSummary(ComparisonSettings s, IReadOnlyList<MethodRun> runs, IReadOnlyList<TeacherRecord> teachers, IReadOnlyDictionary<string, double>? stepTimes)
    {
        var order = MethodCatalog.DefaultMethods.Concat(MethodCatalog.ExtraMethods).ToArray();
        var rows = Summary.Rows(runs, order, stepTimes);
        var table = Summary.MarkdownTable(rows);
        var text = new StringBuilder();
        foreach (var t in teachers)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {t.Name}: {t.Architecture}, {t.Parameters:N0} parameters, {t.Epochs} epochs, test accuracy {t.TestAccuracy * 100:F2} %");
        }

        text.AppendLine();
        text.Append(table);
        File.WriteAllText(Path.Combine(s.OutputDirectory, "summary.md"), text.ToString());
        File.WriteAllText(Path.Combine(s.OutputDirectory, "summary.csv"), Summary.Csv(rows));

        var perSeed = new StringBuilder("method,seed,last_accuracy,best_val_epoch_accuracy,best_epoch,train_seconds,peak_mib,bank_update_seconds,steps,threads,load_start,load_end\n");
        foreach (var r in runs.OrderBy(r => Array.IndexOf(order, r.Method)).ThenBy(r => r.Seed))
        {
            perSeed.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Method},{r.Seed},{r.LastAccuracy:R},{r.BestValidationEpochAccuracy:R},{r.BestEpoch},{r.TrainSeconds:F2},{r.PeakMemoryMiB:F1},{r.BankUpdateSeconds:F4},{r.Steps},{r.Threads},{r.LoadStart},{r.LoadEnd}"));
        }

        File.WriteAllText(Path.Combine(s.OutputDirectory, "runs.csv"), perSeed.ToString());

        var epochs = new StringBuilder("method,seed,stage,epoch,validation_accuracy,test_accuracy,loss\n");
        foreach (var r in runs)
        {
            foreach (var p in r.Epochs)
            {
                epochs.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Method},{r.Seed},{p.Stage},{p.Epoch},{p.ValidationAccuracy:R},{p.TestAccuracy:R},{p.Loss:R}"));
            }
        }

        File.WriteAllText(Path.Combine(s.OutputDirectory, "epochs.csv"), epochs.ToString());
        Plot(rows, teachers, Path.Combine(s.OutputDirectory, "comparison.png"));
        return text.ToString();
    }

    /// <summary>Bars of mean last-epoch test accuracy with ± std error bars per method; the teacher as a dashed line.</summary>
    private static void Plot(IReadOnlyList<SummaryRow> rows, IReadOnlyList<TeacherRecord> teachers, string file)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var plot = new ScottPlot.Plot();
        var bars = rows.Select((r, i) => new ScottPlot.Bar
        {
            Position = i,
            Value = r.Last.Mean * 100,
            Error = r.Last.Std * 100,
            FillColor = r.Method is "alone" ? ScottPlot.Colors.Gray : r.Method is "kd" ? ScottPlot.Colors.OrangeRed : ScottPlot.Colors.SteelBlue,
        }).ToArray();
        plot.Add.Bars(bars);
        var ticks = rows.Select((r, i) => new ScottPlot.Tick(i, r.Method)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 90;
        var values = rows.Select(r => r.Last.Mean * 100).Where(v => !double.IsNaN(v)).ToArray();
        var low = values.Min() - 2;
        var high = Math.Max(values.Max(), teachers.Count > 0 ? teachers[0].TestAccuracy * 100 : values.Max()) + 1;
        if (teachers.Count > 0)
        {
            var line = plot.Add.HorizontalLine(teachers[0].TestAccuracy * 100);
            line.Color = ScottPlot.Colors.Black;
            line.LinePattern = ScottPlot.LinePattern.Dashed;
            line.LegendText = $"teacher ({teachers[0].TestAccuracy * 100:F2} %)";
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        }

        plot.Axes.SetLimitsY(low, high);
        plot.Title("Last-epoch test accuracy, mean ± std over seeds");
        plot.YLabel("test accuracy (%)");
        plot.SavePng(file, Math.Max(800, 45 * rows.Count), 550);
    }
}
