using KnowledgeDistillation.Data;
using static TorchSharp.torch;

namespace KnowledgeDistillation;

/// <summary>Everything a loss may read for one batch: the batch, every participant's output, and where training stands.</summary>
public sealed class DistillationContext
{
    /// <summary>Creates a context (the engine does this for every step; tests and custom loops may too).</summary>
    /// <param name="batch">The batch, on <see cref="Device"/>.</param>
    /// <param name="outputs">Each participant's output, keyed by participant name.</param>
    /// <param name="stage">The stage name.</param>
    /// <param name="epoch">The epoch within the stage, from 0.</param>
    /// <param name="step">The global optimisation step, from 0.</param>
    /// <param name="isTraining">Whether this is a training step (false during evaluation).</param>
    public DistillationContext(
        Batch batch,
        IReadOnlyDictionary<string, ModelOutput> outputs,
        string stage = "distill",
        int epoch = 0,
        long step = 0,
        bool isTraining = true)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(outputs);
        Batch = batch;
        Outputs = outputs;
        Stage = stage;
        Epoch = epoch;
        Step = step;
        IsTraining = isTraining;
    }

    /// <summary>The batch (inputs, targets, sample indices, extras).</summary>
    public Batch Batch { get; }

    /// <summary>Each participant's output for this batch, keyed by participant name.</summary>
    public IReadOnlyDictionary<string, ModelOutput> Outputs { get; }

    /// <summary>The stage name.</summary>
    public string Stage { get; }

    /// <summary>The epoch within the stage, from 0.</summary>
    public int Epoch { get; }

    /// <summary>The global optimisation step, from 0.</summary>
    public long Step { get; }

    /// <summary>Whether this is a training step.</summary>
    public bool IsTraining { get; }

    /// <summary>The device of the batch.</summary>
    public Device Device => Batch.Inputs.device;

    /// <summary>Returns a participant's output, or throws an error listing the participants that exist.</summary>
    /// <param name="participant">The participant's name.</param>
    /// <exception cref="KeyNotFoundException">No participant of that name ran in this step.</exception>
    public ModelOutput Output(string participant)
    {
        if (Outputs.TryGetValue(participant, out var output))
        {
            return output;
        }

        throw new KeyNotFoundException(
            $"The loss asked for participant '{participant}', but this step ran: " +
            $"{string.Join(", ", Outputs.Keys.Select(k => $"'{k}'"))}. Check the participant names given to the loss.");
    }
}
