using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>Keeps cached rows in one float32 tensor per entry on the device, indexed by sample.</summary>
internal sealed class MemoryTeacherOutputStore(long sampleCount, Device device) : ITeacherOutputStore
{
    private readonly bool[] _filled = new bool[sampleCount];
    private Tensor[] _rows = Array.Empty<Tensor>();
    private Tensor? _fingerprints;

    public IReadOnlyList<TeacherOutputEntry>? Layout { get; private set; }

    public long FilledCount { get; private set; }

    public void Initialize(IReadOnlyList<TeacherOutputEntry> layout)
    {
        if (Layout is not null)
        {
            if (Layout.Count != layout.Count || Layout.Zip(layout).Any(p => !p.First.SameAs(p.Second)))
            {
                throw new InvalidOperationException(
                    $"The teacher's outputs changed shape: cached [{string.Join("; ", Layout)}], now [{string.Join("; ", layout)}].");
            }

            return;
        }

        Layout = layout;
        _rows = layout.Select(e => zeros(e.RowShape.Prepend(sampleCount).ToArray(), ScalarType.Float32, device).DetachFromDisposeScope()).ToArray();
        _fingerprints = zeros(new[] { sampleCount, 2L }, ScalarType.Float64, device).DetachFromDisposeScope();
    }

    public bool IsFilled(long index) => _filled[index];

    public void Write(long[] indices, Tensor indexTensor, IReadOnlyList<Tensor> rows, Tensor fingerprints)
    {
        var index = indexTensor.to(device);
        for (var e = 0; e < _rows.Length; e++)
        {
            _rows[e].index_copy_(0, index, rows[e].detach().to(ScalarType.Float32).to(device));
        }

        _fingerprints!.index_copy_(0, index, fingerprints.to(device));
        foreach (var i in indices)
        {
            if (!_filled[i])
            {
                _filled[i] = true;
                FilledCount++;
            }
        }
    }

    public Tensor[] Read(long[] indices, Tensor indexTensor, Device target)
    {
        var index = indexTensor.to(device);
        return _rows.Select(r => r.index_select(0, index).to(target)).ToArray();
    }

    public Tensor ReadFingerprints(long[] indices, Tensor indexTensor, Device target) =>
        _fingerprints!.index_select(0, indexTensor.to(device)).to(target);

    public void Dispose()
    {
        foreach (var rows in _rows)
        {
            rows.Dispose();
        }

        _fingerprints?.Dispose();
    }
}
