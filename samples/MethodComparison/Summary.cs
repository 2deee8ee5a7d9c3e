using System.Globalization;
using System.Text;

namespace MethodComparison;

/// <summary>Mean and sample standard deviation (n - 1 in the denominator; 0 for a single value, NaN for none).</summary>
/// <param name="Mean">The mean.</param>
/// <param name="Std">The sample standard deviation.</param>
/// <param name="Count">How many values.</param>
internal readonly record struct MeanStd(double Mean, double Std, int Count)
{
    public static MeanStd Of(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var v = values.ToArray();
        if (v.Length == 0)
        {
            return new MeanStd(double.NaN, double.NaN, 0);
        }

        var mean = v.Average();
        var std = v.Length == 1 ? 0.0 : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return new MeanStd(mean, std, v.Length);
    }

    /// <summary>"mean ± std" scaled by <paramref name="scale"/> with <paramref name="decimals"/> decimals; the mean alone for one value (it has no spread); empty for no values.</summary>
    public string Format(double scale = 1.0, int decimals = 2) => Count switch
    {
        0 => "",
        1 => (Mean * scale).ToString("F" + decimals, CultureInfo.InvariantCulture),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(Mean * scale).ToString("F" + decimals, CultureInfo.InvariantCulture)} ± {(Std * scale).ToString("F" + decimals, CultureInfo.InvariantCulture)}"),
    };
}

/// <summary>One method's row of the comparison table.</summary>
internal sealed record SummaryRow(
    string Method,
    int Seeds,
    MeanStd Last,
    MeanStd BestValidationEpoch,
    MeanStd DeltaVsKd,
    MeanStd DeltaVsAlone,
    MeanStd TrainSeconds,
    MeanStd PeakMemoryMiB,
    double? StepTimeVsKd);

/// <summary>Aggregates per-seed runs into the comparison table (pure: no TorchSharp, tested on its own).</summary>
internal static class Summary
{
    /// <summary>
    /// One row per method, in <paramref name="order"/> (then any other method by name). Paired differences use the seeds the
    /// method shares with KD (or the student alone); <paramref name="stepTimeVsKd"/> gives the step-time column.
    /// </summary>
    public static IReadOnlyList<SummaryRow> Rows(IEnumerable<MethodRun> runs, IReadOnlyList<string> order, IReadOnlyDictionary<string, double>? stepTimeVsKd = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(order);
        var all = runs.ToArray();
        var duplicate = all.GroupBy(r => (r.Method, r.Seed)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"Two runs of method '{duplicate.Key.Method}' with seed {duplicate.Key.Seed}: keep one per (method, seed).", nameof(runs));
        }

        Dictionary<int, double> Last(string method) => all.Where(r => r.Method == method).ToDictionary(r => r.Seed, r => r.LastAccuracy);
        var kd = Last("kd");
        var alone = Last("alone");
        MeanStd Paired(IEnumerable<MethodRun> group, Dictionary<int, double> baseline) =>
            MeanStd.Of(group.Where(r => baseline.ContainsKey(r.Seed)).Select(r => r.LastAccuracy - baseline[r.Seed]));

        return all.GroupBy(r => r.Method)
            .OrderBy(g => order.Contains(g.Key) ? order.ToList().IndexOf(g.Key) : int.MaxValue)
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new SummaryRow(
                g.Key,
                g.Count(),
                MeanStd.Of(g.Select(r => r.LastAccuracy)),
                MeanStd.Of(g.Select(r => r.BestValidationEpochAccuracy)),
                g.Key == "kd" ? default : Paired(g, kd),
                g.Key == "alone" ? default : Paired(g, alone),
                MeanStd.Of(g.Select(r => r.TrainSeconds)),
                MeanStd.Of(g.Where(r => r.PeakMemoryMiB is not null).Select(r => r.PeakMemoryMiB!.Value)),
                stepTimeVsKd is not null && stepTimeVsKd.TryGetValue(g.Key, out var ratio) ? ratio : null))
            .ToArray();
    }

    /// <summary>Per method, the median over rounds (after the first, a warm-up) of its step time divided by KD's in the same round.</summary>
    public static IReadOnlyDictionary<string, double> StepTimeRatios(IReadOnlyList<StepTimeRound> rounds, int warmupRounds = 1)
    {
        ArgumentNullException.ThrowIfNull(rounds);
        var used = rounds.Skip(warmupRounds).Where(r => r.SecondsPerStep.ContainsKey("kd")).ToArray();
        var methods = used.SelectMany(r => r.SecondsPerStep.Keys).Distinct();
        return methods.ToDictionary(
            m => m,
            m => Median(used.Where(r => r.SecondsPerStep.ContainsKey(m)).Select(r => r.SecondsPerStep[m] / r.SecondsPerStep["kd"])));
    }

    /// <summary>The median (mean of the two middle values for an even count; NaN for none).</summary>
    public static double Median(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var s = values.OrderBy(x => x).ToArray();
        return s.Length == 0 ? double.NaN : s.Length % 2 == 1 ? s[s.Length / 2] : (s[(s.Length / 2) - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>The markdown table of docs/benchmarks.md (accuracies in %, times in s, memory in MiB).</summary>
    public static string MarkdownTable(IReadOnlyList<SummaryRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        text.AppendLine("| method | seeds | last epoch (%) | best-val. epoch (%) | paired Δ vs KD (last) | paired Δ vs alone (last) | train s/run | peak memory MiB | step time vs KD |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            var step = r.StepTimeVsKd is { } ratio ? ratio.ToString("F2", CultureInfo.InvariantCulture) : "";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Method} | {r.Seeds} | {r.Last.Format(100)} | {r.BestValidationEpoch.Format(100)} | {Signed(r.DeltaVsKd)} | {Signed(r.DeltaVsAlone)} | {r.TrainSeconds.Format(1, 0)} | {r.PeakMemoryMiB.Format(1, 0)} | {step} |");
        }

        return text.ToString();
    }

    /// <summary>The rows as CSV (fractions, seconds, MiB; invariant culture).</summary>
    public static string Csv(IReadOnlyList<SummaryRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder("method,seeds,last_mean,last_std,best_val_epoch_mean,best_val_epoch_std,delta_vs_kd_mean,delta_vs_kd_std,delta_vs_alone_mean,delta_vs_alone_std,train_s_mean,train_s_std,peak_mib_mean,peak_mib_std,step_time_vs_kd\n");
        foreach (var r in rows)
        {
            text.AppendLine(string.Join(',', new object?[]
            {
                r.Method, r.Seeds, r.Last.Mean, r.Last.Std, r.BestValidationEpoch.Mean, r.BestValidationEpoch.Std, r.DeltaVsKd.Mean, r.DeltaVsKd.Std,
                r.DeltaVsAlone.Mean, r.DeltaVsAlone.Std, r.TrainSeconds.Mean, r.TrainSeconds.Std, r.PeakMemoryMiB.Mean, r.PeakMemoryMiB.Std, r.StepTimeVsKd,
            }.Select(v => v switch
            {
                null => "",
                double d when double.IsNaN(d) => "",
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                _ => Convert.ToString(v, CultureInfo.InvariantCulture),
            })));
        }

        return text.ToString();
    }

    /// <summary>
    /// The epoch to report for "best validation epoch": the highest validation accuracy among <paramref name="points"/> (the
    /// first on ties), or the highest test accuracy where no point has a validation accuracy (the papers' convention).
    /// </summary>
    public static int BestEpochIndex(IReadOnlyList<EpochPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (points.Count == 0)
        {
            throw new ArgumentException("No evaluated epoch.", nameof(points));
        }

        var useValidation = points.All(p => p.ValidationAccuracy is not null);
        var best = 0;
        for (var i = 1; i < points.Count; i++)
        {
            var score = useValidation ? points[i].ValidationAccuracy!.Value : points[i].TestAccuracy;
            var bestScore = useValidation ? points[best].ValidationAccuracy!.Value : points[best].TestAccuracy;
            if (score > bestScore)
            {
                best = i;
            }
        }

        return best;
    }

    private static string Signed(MeanStd value) => value.Count switch
    {
        0 => "",
        1 => string.Create(CultureInfo.InvariantCulture, $"{value.Mean * 100:+0.00;-0.00}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value.Mean * 100:+0.00;-0.00} ± {value.Std * 100:F2}"),
    };
}
