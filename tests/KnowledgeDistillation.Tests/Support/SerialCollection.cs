using Xunit;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>
/// Runs its tests alone, after the parallel ones: tests that read process-wide state (<c>Tensor.TotalCount</c>)
/// or need TorchSharp's global random generator to themselves (exact reproducibility).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Process-wide state";
}
