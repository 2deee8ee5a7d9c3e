namespace KnowledgeDistillation.Fuzz;

/// <summary>
/// One reader under fuzzing: seed files built with the library's own writers, and one call of the reader's public API on
/// an input. Adding a reader to the harness is one subclass plus one line in <see cref="FuzzTargets.All"/>.
/// </summary>
internal abstract class FuzzTarget
{
    /// <summary>The target's name on the command line and in reports (lower case, no spaces).</summary>
    public abstract string Name { get; }

    /// <summary>The public API the target calls, for reports.</summary>
    public abstract string Api { get; }

    /// <summary>Builds the seed inputs (small, deterministic) with the library's writers; <paramref name="scratch"/> is an empty directory.</summary>
    /// <param name="scratch">A directory the seeds may be built in.</param>
    /// <returns>Each seed's file name and bytes.</returns>
    public abstract IReadOnlyList<(string Name, byte[] Data)> CreateSeeds(string scratch);

    /// <summary>Runs the reader on <paramref name="input"/> to the end (reading every value it serves); returns normally when it accepts the input.</summary>
    /// <param name="input">The (mutated) file contents.</param>
    /// <param name="scratch">A directory the target may write the input to; reused between inputs.</param>
    public abstract void Execute(byte[] input, string scratch);

    /// <summary>Whether each seed must be accepted unchanged (checked in-process before a run); true for every reader.</summary>
    public virtual bool SeedsMustBeAccepted => true;

    /// <summary>
    /// True when <paramref name="exception"/> is one the reader documents for a malformed file: by default an
    /// <see cref="InvalidDataException"/> (or a subtype). Anything else is a finding.
    /// </summary>
    /// <param name="exception">What the reader threw.</param>
    public virtual bool IsDocumented(Exception exception) => exception is InvalidDataException;
}
