using System.Runtime.CompilerServices;
using KnowledgeDistillation.Runtime;

namespace KnowledgeDistillation.Graph.Tests.Support;

/// <summary>
/// Selects MKL's kernels (<see cref="MklCpuDispatch"/>) when the test assembly loads, before any test computes anything,
/// so that every test runs on the same kernels whatever order the tests run in (a test that compares two computations bit
/// for bit must not see the switch between them).
/// </summary>
internal static class KernelSetup
{
#pragma warning disable CA2255 // a module initializer is the point: it runs before any test
    [ModuleInitializer]
    internal static void SelectKernels() => MklCpuDispatch.Apply();
#pragma warning restore CA2255
}
