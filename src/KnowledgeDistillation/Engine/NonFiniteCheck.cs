namespace KnowledgeDistillation.Engine;

/// <summary>When the engine looks for NaN or infinite losses.</summary>
public enum NonFiniteCheck
{
    /// <summary>
    /// After every step (one boolean read from the device per step: free on the CPU, a synchronisation on CUDA).
    /// Required by <see cref="NonFiniteLossPolicy.Skip"/>.
    /// </summary>
    EveryStep,

    /// <summary>
    /// At the end of each epoch, with the first offending step recorded on the device: no host read per step,
    /// for full GPU throughput. Updates after the first non-finite step have already happened when it throws.
    /// </summary>
    EpochEnd,
}
