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
}
