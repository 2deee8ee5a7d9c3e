using System.Text;
using static TorchSharp.torch;

namespace KnowledgeDistillation.Serialization;

/// <summary>
/// Matches a safetensors file's header against a module's state entries through a name map, before any data
/// is read: which file tensor loads into which entry, and every missing, unexpected or mismatched name.
/// </summary>
internal sealed class StateDictMatch
{
    private readonly List<(string File, string Module)> _pairs = new();
    private readonly List<string> _converted = new();
    private readonly List<string> _skipped = new();
    private readonly List<string> _missing = new();
    private readonly List<(string File, string Module)> _unexpected = new();
    private readonly List<string> _mismatched = new();

    private StateDictMatch()
    {
    }

    /// <summary>File tensor name and module entry name of each tensor to copy, in file data order.</summary>
    public IReadOnlyList<(string File, string Module)> Pairs => _pairs;

    public IReadOnlyList<string> Missing => _missing;

    public IReadOnlyList<(string File, string Module)> Unexpected => _unexpected;

    public IReadOnlyList<string> Mismatched => _mismatched;

    public static StateDictMatch Create(
        SafeTensorsFile file, IReadOnlyDictionary<string, Tensor> state, Func<string, string?>? nameMap, bool allowDTypeConversion)
    {
        var match = new StateDictMatch();
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var info in file.Tensors)
        {
            var target = nameMap is null ? info.Name : nameMap(info.Name);
            if (target is null)
            {
                match._skipped.Add(info.Name);
                continue;
            }

            if (target.Length == 0)
            {
                throw new ArgumentException($"The name map returned an empty name for file tensor '{info.Name}'; return null to skip a tensor.", nameof(nameMap));
            }

            if (!state.TryGetValue(target, out var entry))
            {
                match._unexpected.Add((info.Name, target));
                continue;
            }

            if (sources.TryGetValue(target, out var first))
            {
                match._mismatched.Add($"file tensors '{first}' and '{info.Name}' both map to '{target}'.");
                continue;
            }

            sources.Add(target, info.Name);
            if (match.Check(info, target, entry, allowDTypeConversion))
            {
                match._pairs.Add((info.Name, target));
            }
        }

        match._missing.AddRange(state.Keys.Where(k => !sources.ContainsKey(k)));
        return match;
    }

    public SafeTensorsLoadReport ToReport() => new(
        _pairs.Select(p => p.Module).ToList().AsReadOnly(),
        _converted.AsReadOnly(),
        _skipped.AsReadOnly(),
        _missing.AsReadOnly(),
        _unexpected.Select(u => u.File).ToList().AsReadOnly());

    /// <summary>One exception listing every problem, in the manner of PyTorch's load_state_dict.</summary>
    public StateDictMismatchException ToException(string path, string moduleName, bool strict)
    {
        var text = new StringBuilder($"Error(s) loading safetensors file '{path}' into module '{moduleName}':");
        if (strict && _missing.Count > 0)
        {
            text.Append($"\n  Missing key(s) ({_missing.Count}, module entries with no tensor in the file): ")
                .Append(string.Join(", ", _missing.Select(m => $"\"{m}\"")))
                .Append('.');
        }

        if (strict && _unexpected.Count > 0)
        {
            text.Append($"\n  Unexpected key(s) ({_unexpected.Count}, file tensors that match no module entry): ")
                .Append(string.Join(", ", _unexpected.Select(u => u.File == u.Module ? $"\"{u.File}\"" : $"\"{u.File}\" (mapped to \"{u.Module}\")")))
                .Append('.');
        }

        foreach (var line in _mismatched)
        {
            text.Append("\n  ").Append(line);
        }

        if (strict && (_missing.Count > 0 || _unexpected.Count > 0))
        {
            text.Append("\nPass a nameMap to rename or skip file tensors, or strict: false to load only the entries that match.");
        }

        return new StateDictMismatchException(
            path,
            strict ? _missing.AsReadOnly() : Array.Empty<string>(),
            strict ? _unexpected.Select(u => u.File).ToList().AsReadOnly() : Array.Empty<string>(),
            _mismatched.AsReadOnly(),
            text.ToString());
    }

    private bool Check(SafeTensorInfo info, string target, Tensor entry, bool allowDTypeConversion)
    {
        var ok = true;
        var names = info.Name == target ? $"'{target}'" : $"'{target}' (file tensor '{info.Name}')";
        if (!info.Shape.SequenceEqual(entry.shape))
        {
            _mismatched.Add($"size mismatch for {names}: the file has shape {info.ShapeText}, the module has {Guard.Shape(entry)}.");
            ok = false;
        }

        var moduleDType = SafeTensorsDTypes.FromScalarType(entry.dtype);
        if (moduleDType != info.DType)
        {
            var convertible = allowDTypeConversion && moduleDType is { } m
                && SafeTensorsDTypes.IsFloatingPoint(m) && SafeTensorsDTypes.IsFloatingPoint(info.DType);
            if (!convertible)
            {
                var bothFloating = moduleDType is { } md && SafeTensorsDTypes.IsFloatingPoint(md) && SafeTensorsDTypes.IsFloatingPoint(info.DType);
                _mismatched.Add($"dtype mismatch for {names}: the file has {SafeTensorsDTypes.Code(info.DType)}, the module has {entry.dtype}" +
                    (bothFloating ? " (pass allowDTypeConversion: true to convert floating-point types)." : " (only floating-point types can be converted)."));
                ok = false;
            }
            else if (ok)
            {
                _converted.Add(target);
            }
        }

        return ok;
    }
}
