namespace KnowledgeDistillation.Serialization;

/// <summary>
/// A safetensors file does not fit a module: names missing or unexpected (in strict mode), shapes or dtypes that
/// differ, or several file tensors mapped to one module entry. The message lists every problem at once, as
/// PyTorch's <c>load_state_dict</c> does; the module is left unchanged. (TorchSharp's own
/// <c>load_state_dict</c> also throws an <see cref="InvalidOperationException"/> on mismatched names.)
/// </summary>
public sealed class StateDictMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The safetensors file.</param>
    /// <param name="missing">Module state entries that no file tensor maps to.</param>
    /// <param name="unexpected">File tensors whose mapped name is not a module state entry.</param>
    /// <param name="mismatched">One line per shape, dtype or mapping problem.</param>
    /// <param name="message">The full message.</param>
    public StateDictMismatchException(
        string path, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched, string message)
        : base(message)
    {
        Path = path;
        Missing = missing;
        Unexpected = unexpected;
        Mismatched = mismatched;
    }

    /// <summary>The safetensors file.</summary>
    public string Path { get; }

    /// <summary>Module state entries that no file tensor maps to (reported as errors only in strict mode).</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>File tensors whose mapped name is not a module state entry (reported as errors only in strict mode).</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Shape, dtype and mapping problems, one line each.</summary>
    public IReadOnlyList<string> Mismatched { get; }
}
