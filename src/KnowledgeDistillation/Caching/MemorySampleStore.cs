using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>
/// Keeps every field in one tensor [SampleCount, ...row] on a device, plus a device-side "written" mask, so
/// reads, writes and <see cref="Contains"/> need no host round trip (only the index range check reads one boolean).
/// </summary>
public sealed class MemorySampleStore : ISampleStore
{
    private readonly Device _device;
    private Tensor[] _rows = Array.Empty<Tensor>();
    private readonly Tensor _filled;

    /// <summary>Creates an empty store.</summary>
    /// <param name="sampleCount">The number of samples (&gt;= 1).</param>
    /// <param name="device">Where the rows live (default CPU).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sampleCount"/> is not positive.</exception>
    public MemorySampleStore(long sampleCount, Device? device = null)
    {
        SampleCount = SampleStoreChecks.Count(sampleCount);
        _device = device ?? CPU;
        _filled = zeros(sampleCount, ScalarType.Bool, _device).DetachFromDisposeScope();
    }

    /// <inheritdoc />
    public long SampleCount { get; }

    /// <inheritdoc />
    public IReadOnlyList<SampleField>? Fields { get; private set; }

    /// <inheritdoc />
    /// <remarks>Reads the device once.</remarks>
    public long FilledCount
    {
        get
        {
            using var scope = NewDisposeScope();
            return _filled.sum().item<long>();
        }
    }

    /// <inheritdoc />
    public void Initialize(IReadOnlyList<SampleField> fields)
    {
        var checkedFields = SampleStoreChecks.Fields(Fields, fields, "The in-memory sample store");
        if (Fields is not null)
        {
            return;
        }

        Fields = checkedFields;
        _rows = checkedFields.Select(f => zeros(f.RowShape.Prepend(SampleCount).ToArray(), f.ElementType, _device).DetachFromDisposeScope()).ToArray();
    }

    /// <inheritdoc />
    public Tensor Contains(Tensor indices)
    {
        SampleStoreChecks.Indices(indices, SampleCount);
        return _filled.index_select(0, indices.to(_device)).to(indices.device);
    }

    /// <inheritdoc />
    public void Write(Tensor indices, IReadOnlyList<Tensor> rows)
    {
        var fields = Fields ?? throw new InvalidOperationException("Initialize the sample store's fields before writing.");
        SampleStoreChecks.Indices(indices, SampleCount);
        SampleStoreChecks.Rows(fields, indices, rows);
        using var scope = NewDisposeScope();
        var index = indices.to(_device);
        for (var f = 0; f < _rows.Length; f++)
        {
            _rows[f].index_copy_(0, index, rows[f].detach().to(fields[f].ElementType).to(_device));
        }

        _filled.index_fill_(0, index, true);
    }

    /// <inheritdoc />
    public Tensor[] Read(Tensor indices, Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        _ = Fields ?? throw new InvalidOperationException("Initialize the sample store's fields before reading.");
        SampleStoreChecks.Indices(indices, SampleCount);
        var index = indices.to(_device);
        return _rows.Select(r => r.index_select(0, index).to(device)).ToArray();
    }

    /// <inheritdoc />
    public void Forget(Tensor indices)
    {
        SampleStoreChecks.Indices(indices, SampleCount);
        using var index = indices.to(_device);
        _filled.index_fill_(0, index, false);
    }

    /// <summary>Releases the stored tensors.</summary>
    public void Dispose()
    {
        foreach (var rows in _rows)
        {
            rows.Dispose();
        }

        _filled.Dispose();
    }
}
