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
}
