using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Engine;

/// <summary>
/// A copy of a module's parameters and buffers (its <c>state_dict</c>), refreshed in place and loaded back on request: the
/// storage behind "keep the best epoch's weights" (<see cref="BestModelTracker"/>, the Graph package's link-prediction
/// selection). The copy lives on the module's device and is freed by <see cref="Dispose"/>.
/// </summary>
public sealed class WeightSnapshot : IDisposable
{
    private Dictionary<string, Tensor>? _values;

    /// <summary>Whether nothing has been captured yet.</summary>
    public bool IsEmpty => _values is null;

    /// <summary>Copies the module's current parameters and buffers into the snapshot (allocating on the first call).</summary>
    /// <param name="module">The module; later captures must come from a module with the same state names and shapes.</param>
    public void Capture(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope(); // state_dict() may hand out new handles; the copies are detached from the scope
        var state = module.state_dict();
        if (_values is null)
        {
            _values = state.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
            return;
        }

        foreach (var (name, tensor) in state)
        {
            _values[name].copy_(tensor);
        }
    }

    /// <summary>Loads the snapshot into the module (no-op when nothing was captured).</summary>
    /// <param name="module">The module the snapshot was captured from (or one with the same state names and shapes).</param>
    /// <returns>Whether weights were loaded.</returns>
    public bool Restore(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (_values is null)
        {
            return false;
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, tensor) in module.state_dict())
        {
            tensor.copy_(_values[name]);
        }

        return true;
    }

    /// <summary>The captured tensors by state name (empty before the first capture); owned by the snapshot, do not dispose.</summary>
    public IReadOnlyDictionary<string, Tensor> Values => (IReadOnlyDictionary<string, Tensor>?)_values ?? new Dictionary<string, Tensor>();

    /// <summary>
    /// Replaces the snapshot with copies of saved tensors (a checkpoint's), on <paramref name="device"/>; an empty dictionary
    /// empties it. The caller keeps ownership of <paramref name="values"/>.
    /// </summary>
    /// <param name="values">Tensors by state name, as <see cref="Values"/> gave them.</param>
    /// <param name="device">Where the copies live (the module's device).</param>
    public void Load(IReadOnlyDictionary<string, Tensor> values, Device device)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(device);
        Dispose();
        if (values.Count == 0)
        {
            return;
        }

        using var noGrad = no_grad();
        _values = values.ToDictionary(kv => kv.Key, kv => kv.Value.to(device, copy: true).DetachFromDisposeScope());
    }

    /// <summary>Adds the captured tensors to a checkpoint state (an <see cref="ILossState.Export"/>), each as <paramref name="prefix"/> + its state name.</summary>
    /// <param name="state">The state being exported.</param>
    /// <param name="prefix">The key prefix, e.g. "weights/".</param>
    public void ExportTo(IDictionary<string, Tensor> state, string prefix)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(prefix);
        foreach (var (key, value) in Values)
        {
            state[prefix + key] = value;
        }
    }

    /// <summary>
    /// Replaces the snapshot with the tensors saved under <paramref name="prefix"/> by <see cref="ExportTo"/> (none empties it), after
    /// checking them against <paramref name="module"/>'s state: every name known, same shapes and element types, all of them or none.
    /// </summary>
    /// <param name="state">The state being imported (an <see cref="ILossState.Import"/>'s argument; the caller keeps ownership).</param>
    /// <param name="prefix">The key prefix used on export.</param>
    /// <param name="module">The module the snapshot belongs to (its device receives the copies).</param>
    /// <param name="owner">Names the state in error messages.</param>
    /// <returns>Whether weights were loaded.</returns>
    /// <exception cref="InvalidDataException">The saved tensors do not fit the module.</exception>
    public bool ImportFrom(IReadOnlyDictionary<string, Tensor> state, string prefix, nn.Module module, string owner)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(module);
        var weights = state.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
        using var scope = NewDisposeScope(); // state_dict() may hand out new handles
        var expected = module.state_dict();
        foreach (var (key, value) in weights)
        {
            if (!expected.TryGetValue(key, out var current) || !current.shape.SequenceEqual(value.shape) || current.dtype != value.dtype)
            {
                throw new InvalidDataException(
                    $"The state '{owner}' holds weights '{key}' [{string.Join(", ", value.shape)}] {value.dtype} that the model does not have in that shape and type.");
            }
        }

        if (weights.Count > 0 && weights.Count != expected.Count)
        {
            throw new InvalidDataException($"The state '{owner}' holds {weights.Count} weight tensors; the model has {expected.Count}.");
        }

        Load(weights, expected.Values.FirstOrDefault()?.device ?? CPU);
        return weights.Count > 0;
    }

    /// <summary>Frees the copy.</summary>
    public void Dispose()
    {
        if (_values is null)
        {
            return;
        }

        foreach (var tensor in _values.Values)
        {
            tensor.Dispose();
        }

        _values = null;
    }
}
