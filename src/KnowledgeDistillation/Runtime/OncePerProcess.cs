namespace KnowledgeDistillation.Runtime;

/// <summary>
/// A process-wide action that runs once: the first caller runs it (and reports its result), later callers get the same
/// result. Shared by the runtime adjustments (<see cref="MklCpuDispatch"/>, <see cref="NativeAllocatorTuning"/>).
/// </summary>
/// <typeparam name="T">The result type.</typeparam>
internal sealed class OncePerProcess<T>
    where T : class
{
    private readonly object _gate = new();
    private T? _result;

    /// <summary>The result of the first run, or <c>null</c> before it.</summary>
    public T? Result
    {
        get
        {
            lock (_gate)
            {
                return _result;
            }
        }
    }

    /// <summary>Runs <paramref name="run"/> the first time (then <paramref name="onFirst"/> with its result); returns that result.</summary>
    /// <param name="run">The action.</param>
    /// <param name="onFirst">Called once with the first result (e.g. to log it).</param>
    public T Get(Func<T> run, Action<T> onFirst)
    {
        lock (_gate)
        {
            if (_result is null)
            {
                _result = run();
                onFirst(_result);
            }

            return _result;
        }
    }
}
