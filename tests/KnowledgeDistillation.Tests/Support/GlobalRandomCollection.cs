using Xunit;

namespace KnowledgeDistillation.Tests.Support;

/// <summary>
/// Runs its tests alone, so that training runs that reseed and consume TorchSharp's process-wide CPU generator do not
/// change the dropout masks or initialisations of tests running beside them (e.g. the bit-exact checkpoint-resume tests).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomCollection
{
    public const string Name = "Global random generator";
}
