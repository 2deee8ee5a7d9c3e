using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>
/// A training objective over the participants' outputs for one batch. Implement this interface (or
/// derive from <see cref="Losses.DistillationLoss"/> to get <c>0.9 * kd + 0.1 * ce</c> composition)
/// to add a method in your own assembly.
/// </summary>
public interface IDistillationLoss
{
    /// <summary>The name under which the loss reports its value in logs and history.</summary>
    string Name { get; }

    /// <summary>
    /// Modules the loss owns and that must be trained with the students (a regressor, a bridge, an
    /// autoencoder). The engine moves them to the device, switches their train/eval mode and optimises them.
    /// </summary>
    IReadOnlyList<nn.Module> TrainableModules => Array.Empty<nn.Module>();

    /// <summary>Computes the loss for the batch in <paramref name="context"/>.</summary>
    /// <param name="context">The batch, the participants' outputs, the epoch and step.</param>
    /// <returns>A scalar to minimise plus named parts for logging.</returns>
    LossResult Compute(DistillationContext context);
}
