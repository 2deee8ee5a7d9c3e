namespace KnowledgeDistillation.Engine;

/// <summary>
/// The usual set of reporting callbacks for one named run: a <see cref="ConsoleProgress"/> and the run's metrics as
/// <c>{directory}/metrics/{run}.csv</c>, <c>{directory}/metrics/{run}.jsonl</c> and TensorBoard event files in
/// <c>{directory}/runs/{run}/</c> (<c>tensorboard --logdir {directory}/runs</c>). Used by every sample.
/// </summary>
public static class RunTracking
{
    /// <summary>The callbacks of the run named <paramref name="run"/>.</summary>
    /// <param name="directory">The folder that holds <c>metrics/</c> and <c>runs/</c> (created when missing).</param>
    /// <param name="run">The run's name; characters other than ASCII letters, digits, '-', '_' and '.' become '-'.</param>
    /// <param name="progress">Settings of the console progress reporter (default: its defaults).</param>
    /// <param name="replaceExisting">
    /// Delete the files of an earlier run of the same name first (a rerun of an experiment); by default (false) the
    /// writers append to them, as each writer does on its own.
    /// </param>
    /// <returns>The progress reporter and the CSV, JSON-lines and TensorBoard writers, to add to <see cref="Distiller.Callbacks"/>
    /// (or <c>GraphTrainingOptions.Callbacks</c>).</returns>
    /// <exception cref="ArgumentException"><paramref name="directory"/> or <paramref name="run"/> is empty.</exception>
    public static IDistillationCallback[] For(string directory, string run, ConsoleProgressOptions? progress = null, bool replaceExisting = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(run);
        run = string.Concat(run.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-'));
        var metrics = Path.Combine(directory, "metrics");
        var csv = Path.Combine(metrics, run + ".csv");
        var jsonl = Path.Combine(metrics, run + ".jsonl");
        var events = Path.Combine(directory, "runs", run);
        Directory.CreateDirectory(metrics);
        if (replaceExisting)
        {
            File.Delete(csv);
            File.Delete(jsonl);
            if (Directory.Exists(events))
            {
                Directory.Delete(events, recursive: true);
            }
        }

        return [new ConsoleProgress(options: progress), new CsvMetricsWriter(csv), new JsonLinesMetricsWriter(jsonl), new TensorBoardWriter(events)];
    }
}
