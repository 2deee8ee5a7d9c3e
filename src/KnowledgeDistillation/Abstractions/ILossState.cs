using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>
/// State a loss owns beyond module parameters (a memory bank and its pointer, a queue, a momentum encoder's running
/// copy, a per-sample store) that must survive a checkpoint for a resumed run to continue bit for bit. The engine saves
/// every state of every stage's loss in each checkpoint (after the step's hooks ran) and restores it on
/// <see cref="Engine.Distiller.Resume"/>. Mutate state only in <see cref="IDistillationLoss.OnStepEnd"/> or
/// <see cref="IDistillationLoss.OnEpochEnd"/>, never in <see cref="IDistillationLoss.Compute"/>.
/// A callback in <see cref="Engine.Distiller.Callbacks"/> may implement it too (a model-selection callback's best weights and
/// score, an early-stopping counter): the engine saves it after the epoch's callbacks ran, under the same rules, so a resumed
/// run selects as the uninterrupted one would. Resuming requires the same stateful callbacks (by name) as the saved run.
/// </summary>
public interface ILossState
{
    /// <summary>A name unique in the run (the checkpoint key), e.g. "crd.memory" or "drkd.previous-epoch".</summary>
    string Name { get; }

    /// <summary>The state as named tensors (any device; the engine copies them to the CPU to save).</summary>
    IReadOnlyDictionary<string, Tensor> Export();

    /// <summary>Replaces the state with a saved one (the tensors are on the CPU and disposed by the engine afterwards: copy what you keep).</summary>
    /// <param name="state">Tensors by the names <see cref="Export"/> gave them.</param>
    /// <exception cref="InvalidDataException">The saved state does not fit this loss (other names or shapes).</exception>
    void Import(IReadOnlyDictionary<string, Tensor> state);
}
