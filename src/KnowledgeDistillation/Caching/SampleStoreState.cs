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
    private readonly string[]? _fieldNames;

    /// <summary>Wraps a store.</summary>
    /// <param name="name">The state's name, unique in the run.</param>
    /// <param name="store">The store.</param>
    public SampleStoreState(string name, ISampleStore store)
        : this(name, store, null)
    {
    }

    /// <summary>Wraps a store whose fields, once defined, are always exactly <paramref name="fieldNames"/> (in order).</summary>
    /// <param name="name">The state's name, unique in the run.</param>
    /// <param name="store">The store.</param>
    /// <param name="fieldNames">The names the owner gives the store's fields, or null to accept any; a saved state with other fields is refused on import.</param>
    public SampleStoreState(string name, ISampleStore store, IReadOnlyList<string>? fieldNames)
    {
        Name = Guard.Name(name, nameof(name));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _fieldNames = fieldNames?.ToArray();
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
    /// <remarks>
    /// Everything is checked before the store is touched: the keys (<c>written</c> and <c>field&lt;i&gt;:&lt;name&gt;</c>,
    /// fields numbered 0, 1, ... without gaps), the written flags (bool [SampleCount]), every field's rows
    /// ([SampleCount, ...] float32 or float64, finite for the written samples), the field names the owner expects, and
    /// that the fields equal the ones the store already has.
    /// </remarks>
    public void Import(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        using var scope = NewDisposeScope();
        var all = arange(_store.SampleCount, ScalarType.Int64);
        if (!state.TryGetValue(WrittenKey, out var written))
        {
            // Saved before anything was written.
            if (state.Count > 0)
            {
                throw Invalid($"it holds [{string.Join(", ", state.Keys)}] but no '{WrittenKey}' flags");
            }

            if (_store.Fields is not null)
            {
                _store.Forget(all);
            }

            return;
        }

        if (written.dtype != ScalarType.Bool || written.shape.Length != 1 || written.shape[0] != _store.SampleCount)
        {
            throw Invalid($"'{WrittenKey}' is {written.dtype} {Guard.Shape(written)}; this store needs Bool [{_store.SampleCount}]");
        }

        var saved = ParseFields(state, written);
        var savedFields = saved.Select(f => new SampleField(f.Name, f.Rows.shape.Skip(1).ToArray(), f.Rows.dtype)).ToArray();
        try
        {
            // Defines the fields in a fresh store, or checks that they equal the ones already defined.
            _store.Initialize(savedFields);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
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

    /// <summary>Parses and checks the field entries (every key other than the written flags), in field order.</summary>
    private (string Name, Tensor Rows)[] ParseFields(IReadOnlyDictionary<string, Tensor> state, Tensor written)
    {
        var fields = new SortedDictionary<int, (string Name, Tensor Rows)>();
        foreach (var (key, rows) in state.Where(p => p.Key != WrittenKey))
        {
            var colon = key.IndexOf(':', StringComparison.Ordinal);
            if (!key.StartsWith(FieldPrefix, StringComparison.Ordinal) || colon < 0 ||
                !int.TryParse(key.AsSpan(FieldPrefix.Length, colon - FieldPrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var order) ||
                !fields.TryAdd(order, (key[(colon + 1)..], rows)))
            {
                throw Invalid($"key '{key}' is neither '{WrittenKey}' nor a new '{FieldPrefix}<number>:<name>'");
            }

            var name = key[(colon + 1)..];
            if (name.Length == 0 || name.Any(char.IsControl))
            {
                throw Invalid($"field {order} has the name '{name}'");
            }

            if (rows.dtype is not (ScalarType.Float32 or ScalarType.Float64) || rows.shape.Length < 1 || rows.shape[0] != _store.SampleCount)
            {
                throw Invalid($"field '{name}' is {rows.dtype} {Guard.Shape(rows)}; expected float32 or float64 [{_store.SampleCount}, ...]");
            }

            using var writtenRows = rows.index_select(0, arange(_store.SampleCount, ScalarType.Int64).masked_select(written));
            if (writtenRows.numel() > 0 && !writtenRows.isfinite().all().item<bool>())
            {
                throw Invalid($"field '{name}' holds a value that is not finite in a written sample");
            }
        }

        if (fields.Count > 0 && fields.Keys.Last() != fields.Count - 1)
        {
            throw Invalid($"its fields are numbered [{string.Join(", ", fields.Keys)}]; expected 0..{fields.Count - 1}");
        }

        var result = fields.Values.ToArray();
        if (_fieldNames is not null && !result.Select(f => f.Name).SequenceEqual(_fieldNames))
        {
            throw Invalid($"it holds the fields [{string.Join(", ", result.Select(f => f.Name))}]; this store's owner uses [{string.Join(", ", _fieldNames)}]");
        }

        return result;
    }

    private InvalidDataException Invalid(string what) => new($"Saved state '{Name}' is malformed: {what}.");

    private static string FieldKey(int order, string name) => $"{FieldPrefix}{order}:{name}";
}
