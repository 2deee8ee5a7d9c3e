using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>
/// A named participant of a distillation run: it wraps a TorchSharp module and produces a
/// <see cref="ModelOutput"/> for a batch. Teachers and students are both participants; the engine,
/// never a loss, runs them.
/// </summary>
public interface IDistillationModel : IDisposable
{
    /// <summary>The participant's unique name in a run (losses look outputs up by it).</summary>
    string Name { get; }

    /// <summary>The underlying module (parameters, device placement, train/eval mode, saving).</summary>
    nn.Module Module { get; }

    /// <summary>Runs the model on a batch that is already on the module's device.</summary>
    /// <param name="batch">The batch to run.</param>
    /// <returns>The logits and requested features.</returns>
    ModelOutput Forward(Data.Batch batch);

    /// <summary>
    /// The features this participant can produce (for checking losses' declarations before the first step), or
    /// <c>null</c> when that is known only once it runs (a model that returns its own features). The default is <c>null</c>.
    /// </summary>
    IReadOnlyCollection<string>? AvailableFeatures => null;

    /// <summary>
    /// Asks the participant to produce these features from now on (the engine passes what the losses declare, once per
    /// <see cref="Engine.Distiller.Fit"/>). Hook-capturing participants register hooks on the named submodules; the default
    /// does nothing (the model is expected to return them itself).
    /// </summary>
    /// <param name="features">Feature names.</param>
    /// <exception cref="ArgumentException">A name cannot be produced.</exception>
    void CaptureFeatures(IReadOnlyCollection<string> features)
    {
    }
}
