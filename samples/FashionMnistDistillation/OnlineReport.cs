using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FashionMnistDistillation;

/// <summary>Summarises the online / semi-online comparison: accuracy per method and model (mean ± sample std over seeds) and training time.</summary>
internal static class OnlineReport
{
    public sealed record Row(string Method, string Model, int Runs, double Mean, double Std, double Seconds, double DeltaVsAlone, double DeltaStd);

    public static IReadOnlyList<Row> Summarise(IReadOnlyList<OnlineResult> results)
    {
        var alone = results.Where(r => r.Method == "alone").ToDictionary(r => r.Seed, r => r.Accuracy);
        return results.GroupBy(r => (r.Method, r.Model))
            .OrderBy(g => g.Key.Method == "teacher" ? -1 : Array.IndexOf(OnlineExperiment.Methods.Concat(OnlineExperiment.ExtraMethods).ToArray(), g.Key.Method))
            .ThenBy(g => g.Key.Model)
            .Select(g =>
            {
                var accuracies = g.Select(r => r.Accuracy).ToArray();
                var deltas = g.Where(r => alone.ContainsKey(r.Seed)).Select(r => r.Accuracy - alone[r.Seed]).ToArray();
                return new Row(g.Key.Method, g.Key.Model, accuracies.Length, accuracies.Average(), SampleStd(accuracies), g.Average(r => r.TrainSeconds),
                    deltas.Length > 0 ? deltas.Average() : double.NaN, SampleStd(deltas));
            })
            .ToArray();
    }

    public static string Table(IReadOnlyList<OnlineResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| method | model | runs | test accuracy (mean ± std) | paired Δ vs alone (mean ± std) | training s/run |");
        text.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in Summarise(results))
        {
            var delta = double.IsNaN(r.DeltaVsAlone) || r.Method == "teacher" ? "" : string.Create(CultureInfo.InvariantCulture, $"{r.DeltaVsAlone * 100:+0.00;-0.00} ± {r.DeltaStd * 100:F2}");
            text.AppendLine(CultureInfo.InvariantCulture, $"| {r.Method} | {r.Model} | {r.Runs} | {r.Mean * 100:F2} ± {r.Std * 100:F2} % | {delta} | {r.Seconds:F0} |");
        }

        return text.ToString();
    }

    public static void WriteRaw(IReadOnlyList<OnlineResult> results, OnlineSettings settings, string directory)
    {
        Directory.CreateDirectory(directory);
        var stem = string.Create(CultureInfo.InvariantCulture, $"fashion-mnist-online-w{settings.WidthScale}-e{settings.StudentEpochs}-n{settings.StudentTrainLimit?.ToString(CultureInfo.InvariantCulture) ?? "all"}{(settings.UpdateOrder == KnowledgeDistillation.Engine.ParticipantUpdateOrder.Simultaneous ? "-simultaneous" : "")}{(settings.IeWeight != 1.0 ? $"-ie{settings.IeWeight}" : "")}{(settings.SokdFeatureWeight != 1000 ? $"-at{settings.SokdFeatureWeight}" : "")}");
        var json = JsonSerializer.Serialize(
            new
            {
                settings,
                machine = new { Environment.ProcessorCount, os = System.Runtime.InteropServices.RuntimeInformation.OSDescription, dotnet = Environment.Version.ToString() },
                runs = results,
                summary = Summarise(results),
            },
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
        File.WriteAllText(Path.Combine(directory, stem + ".json"), json);
        File.WriteAllText(Path.Combine(directory, stem + ".md"), Table(results));
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
