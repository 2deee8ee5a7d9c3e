namespace KnowledgeDistillation.Fuzz;

/// <summary>How one input ended.</summary>
internal enum Outcome
{
    /// <summary>The reader accepted the input.</summary>
    Ok,

    /// <summary>The reader refused it with a documented exception (<see cref="InvalidDataException"/> or a documented subtype).</summary>
    Documented,

    /// <summary>Finding: another exception type escaped.</summary>
    Unexpected,

    /// <summary>Finding: the child process died (abort, segfault, stack overflow, fail-fast).</summary>
    Crash,

    /// <summary>Finding: the input ran past the timeout.</summary>
    Hang,

    /// <summary>Finding: the child's peak resident memory passed the limit.</summary>
    Memory,
}
