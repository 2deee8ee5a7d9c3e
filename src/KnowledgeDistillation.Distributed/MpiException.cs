namespace KnowledgeDistillation.Distributed;

/// <summary>An MPI call returned an error code.</summary>
public sealed class MpiException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="function">The MPI function.</param>
    /// <param name="code">Its error code.</param>
    /// <param name="description">MPI's text for the code.</param>
    public MpiException(string function, int code, string description)
        : base($"{function} failed with MPI error {code}: {description}")
    {
        Function = function;
        Code = code;
    }

    /// <summary>The MPI function that failed.</summary>
    public string Function { get; }

    /// <summary>The MPI error code.</summary>
    public int Code { get; }
}
