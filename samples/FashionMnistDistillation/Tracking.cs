using KnowledgeDistillation.Engine;

namespace FashionMnistDistillation;

/// <summary>Progress on the console and each run's metrics as CSV, JSON lines and TensorBoard event files.</summary>
internal static class Tracking
{
    /// <summary>
    /// The callbacks of one run named <paramref name="run"/>: a console progress reporter, and
    /// <c>{directory}/metrics/{run}.csv</c>, <c>{directory}/metrics/{run}.jsonl</c> and <c>{directory}/runs/{run}/</c>
    /// (<c>tensorboard --logdir {directory}/runs</c>), replacing the files of an earlier run of that name.
    /// </summary>
    public static IDistillationCallback[] For(string directory, string run, ConsoleProgressOptions? progress = null)
    {
        run = string.Concat(run.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-'));
        var metrics = Path.Combine(directory, "metrics");
        var csv = Path.Combine(metrics, run + ".csv");
        var jsonl = Path.Combine(metrics, run + ".jsonl");
        var events = Path.Combine(directory, "runs", run);
        Directory.CreateDirectory(metrics);
        File.Delete(csv);
        File.Delete(jsonl);
        if (Directory.Exists(events))
        {
            Directory.Delete(events, recursive: true);
        }

        return [new ConsoleProgress(options: progress), new CsvMetricsWriter(csv), new JsonLinesMetricsWriter(jsonl), new TensorBoardWriter(events)];
    }

    /// <summary>Adds <see cref="For"/>'s callbacks to <paramref name="distiller"/>.</summary>
    public static Distiller Track(this Distiller distiller, string directory, string run)
    {
        foreach (var callback in For(directory, run))
        {
            distiller.Callbacks.Add(callback);
        }

        return distiller;
    }
}
