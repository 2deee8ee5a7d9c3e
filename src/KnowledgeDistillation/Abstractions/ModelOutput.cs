using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>
/// What a participant (teacher or student) produced for one batch: optional logits plus named
/// intermediate features (hidden states, attention maps, embeddings, scores). One type serves every
/// domain; a loss reads the entries it needs by name.
/// </summary>
public sealed class ModelOutput
{
    private static readonly IReadOnlyDictionary<string, Tensor> NoFeatures = new Dictionary<string, Tensor>();

    /// <summary>Creates an output.</summary>
    /// <param name="logits">Class scores of shape [batch, classes], or <c>null</c> when the model has no classifier head.</param>
    /// <param name="features">Named intermediate tensors; <c>null</c> means none.</param>
    public ModelOutput(Tensor? logits, IReadOnlyDictionary<string, Tensor>? features = null)
    {
        Logits = logits;
        Features = features ?? NoFeatures;
    }

    /// <summary>Class scores of shape [batch, classes], or <c>null</c> when the model has no classifier head.</summary>
    public Tensor? Logits { get; }

    /// <summary>Named intermediate tensors, keyed by module path (hook capture) or by the model's own names.</summary>
    public IReadOnlyDictionary<string, Tensor> Features { get; }

    /// <summary>Returns the logits, or throws a clear error naming <paramref name="participant"/> when there are none.</summary>
    /// <param name="participant">The participant's name, used in the error message.</param>
    /// <exception cref="InvalidOperationException">The participant produced no logits.</exception>
    public Tensor RequireLogits(string participant) =>
        Logits ?? throw new InvalidOperationException(
            $"Participant '{participant}' produced no logits, but the loss needs them. " +
            "Return logits from the model or use a loss that reads features.");

    /// <summary>Returns a named feature, or throws an error listing the features that exist.</summary>
    /// <param name="name">The feature name (module path for hook capture).</param>
    /// <param name="participant">The participant's name, used in the error message.</param>
    /// <exception cref="KeyNotFoundException">No feature of that name was produced.</exception>
    public Tensor Feature(string name, string participant = "model")
    {
        if (Features.TryGetValue(name, out var value))
        {
            return value;
        }

        var available = Features.Count == 0 ? "none" : string.Join(", ", Features.Keys.Select(k => $"'{k}'"));
        throw new KeyNotFoundException(
            $"Participant '{participant}' has no feature '{name}'. Available features: {available}. " +
            "Request it when wrapping the model (captureFeatures) or return it from the model.");
    }
}
