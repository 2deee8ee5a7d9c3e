namespace KnowledgeDistillation.Engine;

/// <summary>Thrown when a training step's loss is NaN or infinite under <see cref="NonFiniteLossPolicy.Throw"/>.</summary>
public sealed class NonFiniteLossException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stage">The stage name.</param>
    /// <param name="epoch">The epoch within the stage, from 0.</param>
    /// <param name="step">The global step, from 0.</param>
    /// <param name="parts">The loss parts' values at that step.</param>
    public NonFiniteLossException(string stage, int epoch, long step, IReadOnlyDictionary<string, double> parts)
        : base($"The loss is not finite in stage '{stage}', epoch {epoch}, step {step} " +
               (parts.Count == 0 ? "(parts not recorded: NonFiniteCheck = EpochEnd). " : $"(parts: {string.Join(", ", parts.Select(p => $"{p.Key}={p.Value}"))}). ") +
               "Lower the learning rate, clip gradients (MaxGradNorm), check the inputs, or set NonFiniteLoss = Skip.")
    {
        Stage = stage;
        Epoch = epoch;
        Step = step;
        Parts = parts;
    }

    /// <summary>Creates the exception for a step whose samples are known.</summary>
    /// <param name="stage">The stage name.</param>
    /// <param name="epoch">The epoch within the stage, from 0.</param>
    /// <param name="step">The global step, from 0.</param>
    /// <param name="parts">The loss parts' values at that step.</param>
    /// <param name="sampleIndices">The step's samples (dataset indices, <see cref="Data.Batch.Indices"/>).</param>
    /// <param name="suspectSamples">Those of them whose inputs or logits were already not finite.</param>
    /// <param name="samples">A sentence naming them, appended to the message.</param>
    public NonFiniteLossException(
        string stage, int epoch, long step, IReadOnlyDictionary<string, double> parts, IReadOnlyList<long> sampleIndices, IReadOnlyList<long> suspectSamples, string samples)
        : base($"The loss is not finite in stage '{stage}', epoch {epoch}, step {step} " +
               $"(parts: {string.Join(", ", parts.Select(p => $"{p.Key}={p.Value}"))}); {samples}. " +
               "Lower the learning rate, clip gradients (MaxGradNorm), check those samples, or set NonFiniteLoss = Skip.")
    {
        Stage = stage;
        Epoch = epoch;
        Step = step;
        Parts = parts;
        SampleIndices = sampleIndices;
        SuspectSamples = suspectSamples;
    }

    /// <summary>The stage name.</summary>
    public string Stage { get; }

    /// <summary>The samples (dataset indices) of the step; empty when not recorded (<see cref="NonFiniteCheck.EpochEnd"/>).</summary>
    public IReadOnlyList<long> SampleIndices { get; } = Array.Empty<long>();

    /// <summary>Those of <see cref="SampleIndices"/> whose inputs or participants' logits were already NaN or infinite.</summary>
    public IReadOnlyList<long> SuspectSamples { get; } = Array.Empty<long>();

    /// <summary>The epoch within the stage.</summary>
    public int Epoch { get; }

    /// <summary>The global step.</summary>
    public long Step { get; }

    /// <summary>The loss parts at that step.</summary>
    public IReadOnlyDictionary<string, double> Parts { get; }
}
