using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>
/// Captures the outputs of named submodules through forward hooks, so features can be distilled
/// without editing the model. TorchSharp fires hooks only through <c>module.call(x)</c>; a module whose
/// parent invokes it with <c>forward(x)</c> is reported with a clear error instead of a silent miss.
/// Captured tensors are aliases (new handles to the same tensor), because TorchSharp's <c>Sequential</c>
/// disposes intermediate outputs as soon as the next layer has consumed them.
/// </summary>
internal sealed class FeatureCapture : IDisposable
{
    private readonly Dictionary<string, Tensor> _captured = new();
    private readonly List<Action> _removers = new();
    private readonly List<string> _names = new();
    private readonly nn.Module _root;
    private readonly string _participant;

    public FeatureCapture(nn.Module root, IReadOnlyCollection<string> moduleNames, string participant)
    {
        _root = root;
        _participant = participant;
        Add(moduleNames);
    }

    /// <summary>The names of submodules whose outputs can be captured (every <c>Module&lt;Tensor, Tensor&gt;</c> below the root).</summary>
    public IReadOnlyCollection<string> Capturable() =>
        _root.named_modules().Where(m => m.name.Length > 0 && m.module is nn.Module<Tensor, Tensor>).Select(m => m.name).ToArray();

    /// <summary>Whether <paramref name="name"/> names a capturable submodule.</summary>
    public bool CanCapture(string name) =>
        _root.named_modules().Any(m => m.name == name && m.module is nn.Module<Tensor, Tensor>);

    /// <summary>Registers hooks for submodules not captured yet.</summary>
    public void Add(IReadOnlyCollection<string> moduleNames)
    {
        var added = moduleNames.Distinct().Where(n => !_names.Contains(n)).ToArray();
        if (added.Length == 0)
        {
            return;
        }

        var root = _root;
        var participant = _participant;
        var modules = root.named_modules().ToDictionary(m => m.name, m => m.module);
        foreach (var name in added)
        {
            if (!modules.TryGetValue(name, out var module))
            {
                var known = string.Join(", ", modules.Keys.Where(k => k.Length > 0).Take(50).Select(k => $"'{k}'"));
                throw new ArgumentException(
                    $"Participant '{participant}' has no submodule '{name}' to capture. Known submodules: {known}.",
                    nameof(moduleNames));
            }

            if (module is not nn.Module<Tensor, Tensor> tensorModule)
            {
                throw new ArgumentException(
                    $"Submodule '{name}' of participant '{participant}' is a {module.GetType().Name}, not a Module<Tensor, Tensor>; " +
                    "its output cannot be captured by a hook. Return the feature from the model instead (Module<Tensor, ModelOutput>).",
                    nameof(moduleNames));
            }

            var key = name;
            var remover = tensorModule.register_forward_hook((_, _, output) =>
            {
                // A new handle to the same tensor (same storage, same autograd node): TorchSharp's Sequential
                // disposes its intermediate results, which would otherwise invalidate the captured handle.
                _captured[key] = output.alias();
                return output;
            });
            _removers.Add(remover.remove);
            _names.Add(name);
        }
    }

    /// <summary>Forgets the previous batch's captures (call before each forward).</summary>
    public void Clear() => _captured.Clear();

    /// <summary>The captured features of the last forward; throws when a hook did not fire.</summary>
    public IReadOnlyDictionary<string, Tensor> Collect(string participant)
    {
        if (_names.Count == 0)
        {
            return new Dictionary<string, Tensor>();
        }

        foreach (var name in _names)
        {
            if (!_captured.ContainsKey(name))
            {
                throw new InvalidOperationException(
                    $"Submodule '{name}' of participant '{participant}' did not report an output. TorchSharp runs hooks only " +
                    "when a module is invoked with call(x); make the parent's forward use call(x) rather than forward(x).");
            }
        }

        return new Dictionary<string, Tensor>(_captured);
    }

    public void Dispose()
    {
        foreach (var remove in _removers)
        {
            remove();
        }

        _removers.Clear();
        _captured.Clear();
    }
}
