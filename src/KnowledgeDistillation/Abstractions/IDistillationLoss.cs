using TorchSharp;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>
/// A training objective over the participants' outputs for one batch. Implement this interface (or derive from
/// <see cref="Losses.DistillationLoss"/>, which adds <c>0.9 * kd + 0.1 * ce</c> composition) to add a method in your own
/// assembly. The contract:
/// <list type="bullet">
/// <item><see cref="Requirements"/> declares what <see cref="Compute"/> reads; the engine validates it before the first step.</item>
/// <item><see cref="Compute"/> is free of side effects: under a sequential update it runs once per trained participant.</item>
/// <item>State changes happen in <see cref="OnStepEnd"/> (after the optimiser step) and <see cref="OnEpochEnd"/>; state that
/// must survive a checkpoint is exposed through <see cref="State"/>.</item>
/// <item>Modules the loss owns are either trained (<see cref="TrainableModules"/>) or frozen (<see cref="FrozenModules"/>:
/// the engine keeps them in eval mode and their parameters out of autograd); the engine moves both to the device and
/// checkpoints them.</item>
/// <item>A loss that holds native memory implements <see cref="IDisposable"/>; a disposed <see cref="Engine.Distiller"/>
/// disposes its stages' losses.</item>
/// </list>
/// </summary>
public interface IDistillationLoss
{
    /// <summary>The name under which the loss reports its value in logs and history (its sub-parts are "Name.part").</summary>
    string Name { get; }

    /// <summary>What <see cref="Compute"/> reads; <see cref="LossRequirements.None"/> when undeclared.</summary>
    LossRequirements Requirements => LossRequirements.None;

    /// <summary>
    /// Modules the loss owns and that must be trained with the students (a regressor, a bridge, an
    /// autoencoder). The engine moves them to the device, switches their train/eval mode and optimises them.
    /// </summary>
    IReadOnlyList<nn.Module> TrainableModules => Array.Empty<nn.Module>();

    /// <summary>
    /// Modules the loss owns and uses without training them in this stage (a pre-trained autoencoder, a momentum
    /// encoder updated in <see cref="OnStepEnd"/>). The engine moves them to the device, keeps them in eval mode and
    /// switches <c>requires_grad</c> off for their parameters while the stage runs.
    /// </summary>
    IReadOnlyList<nn.Module> FrozenModules => Array.Empty<nn.Module>();

    /// <summary>State beyond module parameters that checkpoints save and restore.</summary>
    IReadOnlyList<ILossState> State => Array.Empty<ILossState>();

    /// <summary>Computes the loss for the batch in <paramref name="context"/>, without side effects.</summary>
    /// <param name="context">The batch, the participants' outputs, the epoch and step.</param>
    /// <returns>A scalar to minimise plus named parts for logging.</returns>
    LossResult Compute(DistillationContext context);

    /// <summary>
    /// Runs once per training step after every optimiser step of that step (also after all turns of a sequential update),
    /// inside the step's dispose scope, with the step's first context (the outputs the loss was computed from). Skipped
    /// (non-finite) steps do not call it. Update memory banks, queues, momentum encoders and per-sample stores here.
    /// </summary>
    /// <param name="context">The step's context.</param>
    void OnStepEnd(DistillationContext context)
    {
    }

    /// <summary>Runs after the last step of every training epoch, before evaluation and the epoch's checkpoint.</summary>
    /// <param name="epoch">The stage, epoch and step count.</param>
    void OnEpochEnd(LossEpochInfo epoch)
    {
    }
}
