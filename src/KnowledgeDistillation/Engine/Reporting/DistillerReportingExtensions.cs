namespace KnowledgeDistillation.Engine;

/// <summary>One-line switches for progress and tracking on a <see cref="Distiller"/>.</summary>
public static class DistillerReportingExtensions
{
    /// <summary>Adds a <see cref="ConsoleProgress"/> (a live bar on a terminal, plain lines when redirected) to the callbacks.</summary>
    /// <param name="distiller">The distiller.</param>
    /// <param name="writer">Where to write (default <see cref="Console.Out"/>).</param>
    /// <param name="options">Settings.</param>
    /// <returns>The same distiller, for chaining.</returns>
    public static Distiller UseConsoleProgress(this Distiller distiller, TextWriter? writer = null, ConsoleProgressOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(distiller);
        distiller.Callbacks.Add(new ConsoleProgress(writer, options));
        return distiller;
    }

    /// <summary>Adds a <see cref="TensorBoardWriter"/> writing each epoch's scalars under <paramref name="logDirectory"/>.</summary>
    /// <param name="distiller">The distiller.</param>
    /// <param name="logDirectory">The run's directory, e.g. <c>runs/kd</c>.</param>
    /// <returns>The same distiller, for chaining.</returns>
    public static Distiller UseTensorBoard(this Distiller distiller, string logDirectory)
    {
        ArgumentNullException.ThrowIfNull(distiller);
        distiller.Callbacks.Add(new TensorBoardWriter(logDirectory));
        return distiller;
    }

    /// <summary>Adds a <see cref="CsvMetricsWriter"/> appending each epoch's scalars to <paramref name="path"/>.</summary>
    /// <param name="distiller">The distiller.</param>
    /// <param name="path">The CSV file.</param>
    /// <returns>The same distiller, for chaining.</returns>
    public static Distiller UseCsvMetrics(this Distiller distiller, string path)
    {
        ArgumentNullException.ThrowIfNull(distiller);
        distiller.Callbacks.Add(new CsvMetricsWriter(path));
        return distiller;
    }

    /// <summary>Adds a <see cref="JsonLinesMetricsWriter"/> appending one JSON object per epoch to <paramref name="path"/>.</summary>
    /// <param name="distiller">The distiller.</param>
    /// <param name="path">The JSON-lines file.</param>
    /// <returns>The same distiller, for chaining.</returns>
    public static Distiller UseJsonLinesMetrics(this Distiller distiller, string path)
    {
        ArgumentNullException.ThrowIfNull(distiller);
        distiller.Callbacks.Add(new JsonLinesMetricsWriter(path));
        return distiller;
    }

    /// <summary>Adds <see cref="RunTracking.For"/>'s callbacks (console progress, CSV, JSON lines, TensorBoard) for one named run.</summary>
    /// <param name="distiller">The distiller.</param>
    /// <param name="directory">The folder that holds <c>metrics/</c> and <c>runs/</c>.</param>
    /// <param name="run">The run's name.</param>
    /// <param name="progress">Settings of the console progress reporter.</param>
    /// <param name="replaceExisting">Delete the files of an earlier run of the same name first (default: append).</param>
    /// <returns>The same distiller, for chaining.</returns>
    public static Distiller UseRunTracking(this Distiller distiller, string directory, string run, ConsoleProgressOptions? progress = null, bool replaceExisting = false)
    {
        ArgumentNullException.ThrowIfNull(distiller);
        foreach (var callback in RunTracking.For(directory, run, progress, replaceExisting))
        {
            distiller.Callbacks.Add(callback);
        }

        return distiller;
    }
}
