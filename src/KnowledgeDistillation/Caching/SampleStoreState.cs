using static TorchSharp.torch;

namespace KnowledgeDistillation.Caching;

/// <summary>
/// Checkpoints any <see cref="ISampleStore"/> as loss state: every field's rows and which samples were written. On
/// restore the store ends up exactly as it was at the checkpoint, also a <see cref="DiskSampleStore"/> that was written to
/// after the checkpoint (those rows are overwritten or forgotten). The rows of every sample are saved, so a checkpoint
/// grows by the store's size.
/// </summary>
public sealed class SampleStoreState : ILossState
{
    private const string WrittenKey = "written";
    private const string FieldPrefix = "field";

    private readonly ISampleStore _store;

    /// <summary>Wraps a store.</summary>
    /// <param name="name">The state's name, unique in the run.</param>
    /// <param name="store">The store.</param>
    public SampleStoreState(string name, ISampleStore store)
    {
        Name = Guard.Name(name, nameof(name));
        _store = store ?? throw new ArgumentNullException(nameof(store));
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Tensor> Export()
    {
        var state = new Dictionary<string, Tensor>();
        if (_store.Fields is not { } fields)
        {
            return state;
        }

        using var all = arange(_store.SampleCount, ScalarType.Int64);
        state[WrittenKey] = _store.Contains(all).cpu();
        var rows = _store.Read(all, CPU);
        for (var f = 0; f < fields.Count; f++)
        {
            state[FieldKey(f, fields[f].Name)] = rows[f];
        }

        return state;
    }

    /// <inheritdoc />
    public void Import(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var scope = NewDisposeScope();
        var all = arange(_store.SampleCount, ScalarType.Int64);
        if (!state.TryGetValue(WrittenKey, out var written))
        {
            // Saved before anything was written.
            if (_store.Fields is not null)
            {
                _store.Forget(all);
            }

            return;
        }

        if (written.dtype != ScalarType.Bool || written.shape.Length != 1 || written.shape[0] != _store.SampleCount)
        {
            throw new InvalidDataException($"Saved state '{Name}' is for {written.shape[0]} samples; this store holds {_store.SampleCount}.");
        }

        var saved = state.Where(p => p.Key.StartsWith(FieldPrefix, StringComparison.Ordinal))
            .Select(p => (Order: int.Parse(p.Key[FieldPrefix.Length..p.Key.IndexOf(':', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture),
                Name: p.Key[(p.Key.IndexOf(':', StringComparison.Ordinal) + 1)..], Rows: p.Value))
            .OrderBy(f => f.Order)
            .ToArray();
        var savedFields = saved.Select(f => new SampleField(f.Name, f.Rows.shape.Skip(1).ToArray(), f.Rows.dtype)).ToArray();
        try
        {
            // Defines the fields in a fresh store, or checks that they equal the ones already defined.
            _store.Initialize(savedFields);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"Saved state '{Name}' does not fit its store: {e.Message}", e);
        }

        var fields = _store.Fields!;
        var present = all.masked_select(written);
        _store.Forget(all.masked_select(written.logical_not()));
        if (present.numel() > 0)
        {
            _store.Write(present, fields.Select(f => saved.Single(s => s.Name == f.Name).Rows.index_select(0, present)).ToArray());
        }
    }

    private static string FieldKey(int order, string name) => $"{FieldPrefix}{order}:{name}";
}
