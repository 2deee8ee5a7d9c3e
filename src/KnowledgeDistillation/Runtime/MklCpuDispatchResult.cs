namespace KnowledgeDistillation.Runtime;

/// <summary>The result of <see cref="MklCpuDispatch.Apply"/>.</summary>
/// <param name="Outcome">What was found and done.</param>
/// <param name="DetectedKernels">MKL's own choice before the call (its CPU-type code: 0 generic, 5 AVX2, 7 AVX-512), when read.</param>
/// <param name="SelectedKernels">The code MKL uses after the call, when read.</param>
/// <param name="Detail">One sentence for logs.</param>
public sealed record MklCpuDispatchResult(MklCpuDispatchOutcome Outcome, int? DetectedKernels, int? SelectedKernels, string Detail);
