using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FashionMnistDistillation;

/// <summary>Summarises teacher-free runs: accuracy (mean ± sample std over seeds) and training cost relative to plain training.</summary>
internal static class TeacherFreeReport
{
    public sealed record Row(string Method, int Runs, double Mean, double Std, double Seconds, double StageRatio, double StageRatioStd, double TotalRatio, double TotalRatioStd);

    public static IReadOnlyList<Row> Summarise(IReadOnlyList<TeacherFreeResult> results)
    {
        var plain = results.Where(r => r.Method == "plain").ToDictionary(r => r.Seed, r => r.TrainSeconds);
        return results.GroupBy(r => r.Method)
            .OrderBy(g => Array.IndexOf(TeacherFreeExperiment.Methods, g.Key))
            .Select(g =>
            {
                var accuracies = g.Select(r => r.Accuracy).ToArray();
                var stage = g.Where(r => plain.ContainsKey(r.Seed)).Select(r => r.TrainSeconds / plain[r.Seed]).ToArray();
                var total = g.Where(r => plain.ContainsKey(r.Seed)).Select(r => r.TotalSeconds / plain[r.Seed]).ToArray();
                return new Row(
                    g.Key, accuracies.Length, accuracies.Average(), SampleStd(accuracies), g.Average(r => r.TrainSeconds),
                    stage.Length > 0 ? stage.Average() : double.NaN, SampleStd(stage),
                    total.Length > 0 ? total.Average() : double.NaN, SampleStd(total));
            })
            .ToArray();
    }

    public static string Table(IReadOnlyList<TeacherFreeResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| method | runs | test accuracy (mean ± std) | training s/run | cost vs plain (this stage) | cost vs plain (incl. pre-training) |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in Summarise(results))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Method} | {r.Runs} | {r.Mean * 100:F2} ± {r.Std * 100:F2} % | {r.Seconds:F1} | {r.StageRatio:F2} ± {r.StageRatioStd:F2} | {r.TotalRatio:F2} ± {r.TotalRatioStd:F2} |");
        }

        return text.ToString();
    }

    public static void WriteRaw(IReadOnlyList<TeacherFreeResult> results, ExperimentSettings settings, string directory)
    {
        Directory.CreateDirectory(directory);
        var stem = string.Create(CultureInfo.InvariantCulture, $"fashion-mnist-teacher-free-{settings.Student}-e{settings.StudentEpochs}-s{settings.Seeds.Length}");
        var csv = new StringBuilder("method,seed,test_accuracy,train_seconds,pretrain_seconds\n");
        foreach (var r in results)
        {
            csv.AppendLine(CultureInfo.InvariantCulture, $"{r.Method},{r.Seed},{r.Accuracy:F4},{r.TrainSeconds:F2},{r.PretrainSeconds:F2}");
        }

        File.WriteAllText(Path.Combine(directory, stem + ".csv"), csv.ToString());
        var json = JsonSerializer.Serialize(
            new
            {
                settings = new
                {
                    settings.Student, settings.StudentEpochs, settings.Seeds, settings.Temperature, settings.Alpha, settings.LearningRate, settings.BatchSize,
                    settings.TrainLimit, settings.Device, labelSmoothing = TeacherFreeExperiment.LabelSmoothing,
                    tfkdReg = new { a = TeacherFreeExperiment.RegCorrectProbability, temperature = TeacherFreeExperiment.RegTemperature, alpha = TeacherFreeExperiment.RegAlpha, multiplier = TeacherFreeExperiment.RegMultiplier },
                },
                machine = new { Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription, dotnet = Environment.Version.ToString(), date = DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture) },
                runs = results,
                summary = Summarise(results),
            },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
        File.WriteAllText(Path.Combine(directory, stem + ".json"), json);
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
