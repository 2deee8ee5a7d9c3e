using KnowledgeDistillation.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>
/// Shared adapter behind <see cref="Teacher"/> and <see cref="Student"/>: wraps a module and a forward
/// function, and captures requested submodule outputs through hooks.
/// </summary>
public abstract class DistillationModel : IDistillationModel
{
    private readonly Func<Batch, ModelOutput> _forward;
    private readonly FeatureCapture _capture;
    private readonly bool _ownsModule;
    private readonly bool _returnsOwnFeatures;

    /// <summary>Creates the adapter.</summary>
    /// <param name="name">The participant's unique name.</param>
    /// <param name="module">The module holding the parameters.</param>
    /// <param name="forward">Runs the model on a batch.</param>
    /// <param name="captureFeatures">Submodule paths (as in <c>named_modules()</c>) whose outputs become features.</param>
    /// <param name="ownsModule">Whether disposing the participant disposes the module.</param>
    /// <param name="returnsOwnFeatures">Whether <paramref name="forward"/> may return features of its own (then which
    /// features exist is known only when it runs); false when it returns logits only.</param>
    /// <exception cref="ArgumentException">The name is empty, or a captured submodule does not exist.</exception>
    protected DistillationModel(
        string name,
        nn.Module module,
        Func<Batch, ModelOutput> forward,
        IReadOnlyCollection<string>? captureFeatures,
        bool ownsModule,
        bool returnsOwnFeatures = true)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A participant needs a non-empty name.", nameof(name));
        }

        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(forward);
        Name = name;
        Module = module;
        _forward = forward;
        _ownsModule = ownsModule;
        _returnsOwnFeatures = returnsOwnFeatures;
        _capture = new FeatureCapture(module, captureFeatures ?? Array.Empty<string>(), name);
    }

    /// <summary>
    /// The submodule paths whose outputs can be captured through hooks, when the forward returns logits only; <c>null</c>
    /// when the model returns features of its own (known only once it runs).
    /// </summary>
    public IReadOnlyCollection<string>? AvailableFeatures => _returnsOwnFeatures ? null : _capture.Capturable();

    /// <summary>Registers hooks for the named submodules (names the model returns itself are left to it).</summary>
    /// <param name="features">Feature names: submodule paths, or names the model's own output carries.</param>
    /// <exception cref="ArgumentException">The model returns logits only and a name is no capturable submodule.</exception>
    public void CaptureFeatures(IReadOnlyCollection<string> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        _capture.Add(_returnsOwnFeatures ? features.Where(_capture.CanCapture).ToArray() : features);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public nn.Module Module { get; }

    /// <inheritdoc />
    public ModelOutput Forward(Batch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _capture.Clear();
        var output = _forward(batch);
        var captured = _capture.Collect(Name);
        if (captured.Count == 0)
        {
            return output;
        }

        var features = new Dictionary<string, Tensor>(output.Features);
        foreach (var (key, value) in captured)
        {
            features[key] = value;
        }

        return new ModelOutput(output.Logits, features);
    }

    /// <summary>Removes the hooks and, when the participant owns it, disposes the module.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases resources.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        _capture.Dispose();
        if (_ownsModule)
        {
            Module.Dispose();
        }
    }

    /// <summary>A forward function for a module that maps inputs to logits.</summary>
    /// <param name="module">The module.</param>
    protected static Func<Batch, ModelOutput> LogitsForward(nn.Module<Tensor, Tensor> module) =>
        batch => new ModelOutput(module.call(batch.Inputs));

    /// <summary>A forward function for a module that returns its own <see cref="ModelOutput"/>.</summary>
    /// <param name="module">The module.</param>
    protected static Func<Batch, ModelOutput> OutputForward(nn.Module<Tensor, ModelOutput> module) =>
        batch => module.call(batch.Inputs);
}
