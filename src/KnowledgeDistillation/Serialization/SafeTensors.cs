using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Serialization;

/// <summary>
/// Loads a TorchSharp module's parameters and buffers from a safetensors file (such as a pretrained PyTorch
/// teacher saved with <c>safetensors.torch.save_file(model.state_dict(), path)</c>) and saves them to one.
/// </summary>
/// <remarks>
/// Names are those of <c>module.state_dict()</c>: dotted paths of fields registered with
/// <c>RegisterComponents</c>, such as <c>features.conv1.weight</c> or <c>bn.running_mean</c>, which is the
/// style PyTorch uses; a name map usually only renames prefixes.
/// </remarks>
public static class SafeTensors
{
    /// <summary>
    /// Copies the tensors of a safetensors file into <paramref name="module"/>'s state entries (parameters and
    /// persistent buffers, such as batch-norm running statistics), in place and without recording gradients,
    /// so the module keeps its device and element types.
    /// </summary>
    /// <param name="module">The module to load into.</param>
    /// <param name="path">The safetensors file.</param>
    /// <param name="nameMap">
    /// Maps a file tensor's name to the module entry it loads into, or to null to skip the tensor; by default
    /// names are used as they are. Example: <c>n =&gt; n.StartsWith("model.") ? n[6..] : null</c>.
    /// </param>
    /// <param name="strict">
    /// When true (the default), every module entry must receive a tensor and every file tensor that is not
    /// skipped must map to a module entry. When false, those entries are only reported.
    /// </param>
    /// <param name="allowDTypeConversion">
    /// When false (the default), a file tensor's dtype must equal the module entry's. When true, floating-point
    /// tensors are converted to the module's floating-point type (F16, BF16, F32, F64, in either direction);
    /// integer and bool entries must still match exactly.
    /// </param>
    /// <returns>Which entries were loaded, converted, skipped, missing or unexpected.</returns>
    /// <remarks>
    /// All names, shapes and dtypes are checked against the file's header before any data is read, and every
    /// problem is reported in one <see cref="StateDictMismatchException"/>; the module is then left unchanged.
    /// Shape and dtype mismatches are errors even when <paramref name="strict"/> is false, as in PyTorch. Data is
    /// read one tensor at a time. An error found in the data itself (a BOOL byte other than 0 or 1, a file
    /// truncated while loading) stops the load with an <see cref="InvalidDataException"/> and can leave
    /// earlier entries already loaded.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="module"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or <paramref name="nameMap"/> returned an empty name.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="StateDictMismatchException">The file does not fit the module.</exception>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file.</exception>
    public static SafeTensorsLoadReport LoadInto(
        nn.Module module, string path, Func<string, string?>? nameMap = null, bool strict = true, bool allowDTypeConversion = false)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var file = SafeTensorsFile.Open(path);
        var state = module.state_dict();
        var plan = StateDictMatch.Create(file, state, nameMap, allowDTypeConversion);
        if (plan.Mismatched.Count > 0 || (strict && (plan.Missing.Count > 0 || plan.Unexpected.Count > 0)))
        {
            throw plan.ToException(path, module.GetName(), strict);
        }

        using (no_grad())
        {
            foreach (var (fileName, moduleName) in plan.Pairs)
            {
                using var scope = NewDisposeScope();
                var source = file.ReadTensor(fileName);
                state[moduleName].copy_(source);
            }
        }

        return plan.ToReport();
    }

    /// <summary>
    /// Saves <paramref name="module"/>'s state entries (parameters and persistent buffers) to a safetensors file
    /// that PyTorch's <c>safetensors.torch.load_file</c> reads; see <see cref="SafeTensorsWriter"/> for the layout.
    /// </summary>
    /// <param name="module">The module to save.</param>
    /// <param name="path">The file to write (replaced atomically if it exists).</param>
    /// <param name="nameMap">Maps a module entry's name to its name in the file, or to null to leave it out; by default names are kept.</param>
    /// <param name="metadata">Optional string metadata, stored under <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="module"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty, or the mapped names are empty, repeated or reserved.</exception>
    public static void Save(
        nn.Module module, string path, Func<string, string?>? nameMap = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var entries = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, tensor) in module.state_dict())
        {
            var fileName = nameMap is null ? name : nameMap(name);
            if (fileName is not null)
            {
                entries.Add(new(fileName, tensor));
            }
        }

        SafeTensorsWriter.Write(path, entries, metadata, nameMap is null ? nameof(module) : nameof(nameMap));
    }
}
