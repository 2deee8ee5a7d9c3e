using Xunit;

namespace KnowledgeDistillation.Tests.Distributed;

/// <summary>
/// A fact that needs Open MPI (mpirun on the PATH and libmpi.so.40 in the loader's directories); reported as skipped, with
/// how to install it, where either is absent. CI installs openmpi-bin and libopenmpi-dev, so there these tests run.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class FactRequiresMpiAttribute : FactAttribute
{
    public FactRequiresMpiAttribute()
    {
        if (MpiRun.Executable is null)
        {
            Skip = "Skipped: Open MPI's mpirun is not on the PATH. Install it (apt-get install openmpi-bin libopenmpi-dev) to run the MPI tests.";
        }
        else if (!MpiRun.LibraryPresent)
        {
            Skip = "Skipped: mpirun exists but libmpi.so.40 does not. Install libopenmpi-dev (Open MPI 4) to run the MPI tests.";
        }
    }
}
