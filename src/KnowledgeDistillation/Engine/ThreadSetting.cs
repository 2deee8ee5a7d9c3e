using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// Applies <see cref="DistillerOptions.Threads"/> for the duration of a call and restores the previous count afterwards.
/// TorchSharp's intra-op thread count is process-wide, so other TorchSharp work running at the same time sees it too.
/// </summary>
internal readonly struct ThreadSetting : IDisposable
{
    private readonly int _previous;

    private ThreadSetting(int previous) => _previous = previous;

    /// <summary>Sets the thread count when <paramref name="threads"/> is set and differs from the current one.</summary>
    public static ThreadSetting Apply(int? threads)
    {
        if (threads is not { } count)
        {
            return default;
        }

        var previous = get_num_threads();
        if (previous == count)
        {
            return default;
        }

        set_num_threads(count);
        return new ThreadSetting(previous);
    }

    public void Dispose()
    {
        if (_previous > 0)
        {
            set_num_threads(_previous);
        }
    }
}
