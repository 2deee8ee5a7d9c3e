namespace KnowledgeDistillation.Fuzz;

/// <summary>
/// The child side of the driver: reads input file paths from standard input, one a line, runs the target on each and
/// answers with one result line (<c>@@ outcome TAB milliseconds TAB detail</c>). A crash or hang ends or stalls the
/// process, which the driver notices.
/// </summary>
internal static class Worker
{
    /// <summary>The prefix of result lines (anything else the process prints is ignored).</summary>
    public const string ResultPrefix = "@@ ";

    /// <summary>Serves inputs for <paramref name="target"/> until standard input closes.</summary>
    public static int Run(FuzzTarget target)
    {
        TorchSharp.torch.set_num_threads(1);
        var scratch = Directory.CreateTempSubdirectory($"kd-fuzz-{target.Name}-").FullName;
        try
        {
            var output = Console.Out;
            output.WriteLine(ResultPrefix + "READY");
            output.Flush();
            while (Console.In.ReadLine() is { } path)
            {
                var input = File.ReadAllBytes(path);
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var (outcome, detail) = Execution.Classify(target, input, scratch);
                output.WriteLine($"{ResultPrefix}{outcome}\t{watch.ElapsedMilliseconds}\t{detail}");
                output.Flush();
            }

            return 0;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
