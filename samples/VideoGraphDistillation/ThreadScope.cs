using static TorchSharp.torch;

/// <summary>Sets libtorch's intra-op thread count for the sample's lifetime.</summary>
internal sealed class ThreadScope : IDisposable
{
    private readonly int _previous = get_num_threads();

    public ThreadScope(int threads) => set_num_threads(threads);

    public void Dispose() => set_num_threads(_previous);
}
