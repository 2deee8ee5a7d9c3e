namespace KnowledgeDistillation.Fuzz;

/// <summary>Runs a target on one input in this process and classifies what happened (crashes and hangs are the driver's to see).</summary>
internal static class Execution
{
    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>.</summary>
    /// <returns>Ok, Documented or Unexpected, with the exception's type and first message line.</returns>
    public static (Outcome Outcome, string Detail) Classify(FuzzTarget target, byte[] input, string scratch)
    {
        try
        {
            target.Execute(input, scratch);
            return (Outcome.Ok, string.Empty);
        }
        catch (Exception e) when (target.IsDocumented(e))
        {
            return (Outcome.Documented, Describe(e));
        }
        catch (Exception e)
        {
            return (Outcome.Unexpected, Describe(e) + " | " + OneLine(e.StackTrace ?? string.Empty, 600));
        }
    }

    /// <summary>Runs the target for an instrumented fuzzer: documented exceptions are swallowed, anything else propagates (a finding).</summary>
    public static void RunForFuzzer(FuzzTarget target, byte[] input, string scratch)
    {
        try
        {
            target.Execute(input, scratch);
        }
        catch (Exception e) when (target.IsDocumented(e))
        {
        }
    }

    private static string Describe(Exception e) => $"{e.GetType().FullName}: {OneLine(e.Message, 300)}";

    private static string OneLine(string text, int max)
    {
        var line = text.Replace('\r', ' ').Replace('\n', ' ').Replace('\t', ' ');
        return line.Length > max ? line[..max] + "..." : line;
    }
}
