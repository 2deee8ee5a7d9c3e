using Xunit;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>Runs its tests alone, so that <c>Tensor.TotalCount</c> (process-wide) counts only their tensors.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeMemoryCollection
{
    public const string Name = "Native tensor counts";
}
