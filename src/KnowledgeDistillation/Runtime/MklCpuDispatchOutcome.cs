namespace KnowledgeDistillation.Runtime;

/// <summary>What <see cref="MklCpuDispatch.Apply"/> found and did.</summary>
public enum MklCpuDispatchOutcome
{
    /// <summary>MKL ran its generic kernels on a CPU with AVX2 or AVX-512; it now runs the kernels of that instruction set.</summary>
    Applied,

    /// <summary>MKL already runs AVX2 or AVX-512 kernels on this CPU (an Intel CPU, or applied before): nothing to do.</summary>
    AlreadyOptimized,

    /// <summary>Switched off by the environment variable <see cref="MklCpuDispatch.EnvironmentVariable"/>.</summary>
    Disabled,

    /// <summary>Not Linux x64, or the loaded libtorch has no MKL (a build with another BLAS): nothing to do.</summary>
    NotApplicable,

    /// <summary>The CPU lacks AVX2/FMA: MKL's generic kernels are the right ones.</summary>
    UnsupportedCpu,

    /// <summary>The loaded libtorch's MKL is not the build this was verified on (its dispatch code differs): left alone.</summary>
    Unrecognized,
}
